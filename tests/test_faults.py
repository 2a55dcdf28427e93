"""Faults end in a readable widget state, partial text kept, the next cell working.

Each case runs through a real kernel against the loopback server, which
records whether the client closed the connection.
"""

from __future__ import annotations

import json
import time

import psutil
import pytest

from tests.kernel import Kernel
from tests.sse_server import Plan

TOKENS = [f"t{i} " for i in range(300)]


def ask(kernel: Kernel, line: str, timeout: float = 30):
    kernel.widgets.clear()
    execution = kernel.run(f"%%chat {line}\nhello", timeout=timeout)
    assert execution.status == "ok", execution.outputs
    (widget,) = kernel.chat_widgets()
    return execution, widget


def start_before_the_first_byte(kernel: Kernel, server):
    """A `%%chat` cell whose request reached a server that will send nothing."""
    server.add_model("loading", Plan(hang_before_headers=True))
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m loading\nhello")
    kernel.pump(execution, until=lambda _: bool(kernel.chat_widgets()), timeout=10)
    server.wait_for_requests(1)
    return execution


def next_cell_works(kernel: Kernel) -> None:
    _, widget = ask(kernel, "-m echo")
    assert widget.state["status"] == "done"


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (401, "Authentication failed (401)"),
        (403, "Permission denied (403)"),
        (500, "Server error (500)"),
        (503, "Server error (503)"),
    ],
)
def test_http_errors_are_readable(kernel, server, status, title):
    server.add_model("failing", Plan(status=status))
    _, widget = ask(kernel, "-m failing")
    assert widget.state["status"] == "error"
    assert widget.state["error"]["title"] == title
    assert widget.state["error"]["hint"]
    next_cell_works(kernel)


def test_rate_limit_retries_are_visible_then_succeed(kernel, server):
    server.add_model("busy", Plan(tokens=["finally"], status=429, fail_times=1))
    _, widget = ask(kernel, "-m busy")
    assert widget.state["status"] == "done"
    assert widget.streamed_text == "finally"
    assert any(u.get("retrying", "").startswith("retrying") for u in widget.updates)
    assert widget.state["retrying"] == ""


def test_rate_limit_that_persists_says_so(kernel, server):
    server.add_model("limited", Plan(status=429))
    _, widget = ask(kernel, "-m limited")
    assert widget.state["error"]["title"] == "Rate limited (429)"
    paths = [r.path for r in server.requests if r.path.endswith("/chat/completions")]
    assert len(paths) == 3, "the client's two retries, all visible to the server"


def test_stop_works_during_retries(kernel, server):
    server.add_model("limited", Plan(status=429))
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m limited\nhello")

    def retrying(_) -> bool:
        widgets = kernel.chat_widgets()
        return bool(widgets) and widgets[0].state.get("retrying", "") != ""

    kernel.pump(execution, until=retrying, timeout=10)
    kernel.stop_widget(kernel.chat_widgets()[0])
    started = time.monotonic()
    kernel.pump(execution, timeout=5)
    assert time.monotonic() - started < 1.0
    assert kernel.chat_widgets()[0].state["status"] == "stopped"


def test_stop_before_the_first_byte_closes_the_connection(kernel, server):
    execution = start_before_the_first_byte(kernel, server)
    kernel.stop_widget(kernel.chat_widgets()[0])
    kernel.pump(execution, timeout=5)
    assert kernel.chat_widgets()[0].state["status"] == "stopped"
    assert server.wait_for_disconnect(timeout=2).disconnected


def test_a_server_that_never_answers_times_out(kernel, server):
    server.add_model("loading", Plan(hang_before_headers=True))
    kernel.run("%config ChatMagics.timeout = 0.5")
    try:
        _, widget = ask(kernel, "-m loading")
    finally:
        kernel.run("%config ChatMagics.timeout = 60.0")
    assert widget.state["error"]["title"] == "Timed out"
    assert server.wait_for_disconnect(timeout=2).disconnected


def test_a_stream_that_stalls_times_out_keeping_the_partial_answer(kernel, server):
    server.add_model("stalls", Plan(tokens=TOKENS, stall_after=5))
    kernel.run("%config ChatMagics.timeout = 0.5")
    try:
        execution, widget = ask(kernel, "-m stalls")
    finally:
        kernel.run("%config ChatMagics.timeout = 60.0")
    assert widget.state["error"]["title"] == "Timed out"
    assert widget.streamed_text == "".join(TOKENS[:5])
    markdown = next(iter(execution.displays.values()))["data"]["text/markdown"]
    assert markdown.startswith("".join(TOKENS[:5]).strip())


def test_connection_refused_and_unresolvable_host(kernel, server):
    for url, title in [
        ("http://127.0.0.1:9/v1", "Cannot reach the server"),
        ("http://no-such-host.invalid/v1", "Cannot reach the server"),
    ]:
        kernel.run(f"%env OPENAI_BASE_URL={url}")
        try:
            _, widget = ask(kernel, "-m echo", timeout=60)
        finally:
            kernel.run(f"%env OPENAI_BASE_URL={server.base_url}")
        assert widget.state["error"]["title"] == title
    next_cell_works(kernel)


@pytest.mark.parametrize(
    ("plan", "status", "title"),
    [
        (Plan(tokens=["a ", "b "], drop_after=1), "error", "Connection lost"),
        (Plan(tokens=["a ", "b "], error_after=1), "error", "The server reported an error"),
        (Plan(raw=[]), "error", "Empty response"),
        (Plan(tokens=[]), "error", "Empty answer"),
        (Plan(json_body={"id": "x", "object": "chat.completion", "choices": []}), "error",
         "Empty response"),
        (Plan(raw=[b"data: {not json\n\n"]), "error", "Malformed stream"),
        (Plan(tokens=["whole"], done=False), "done", None),
    ],
    ids=["dropped", "error-event", "empty", "finish-but-no-text", "json-body", "malformed",
         "no-done"],
)  # fmt: skip
def test_broken_streams(kernel, server, plan, status, title):
    server.add_model("broken", plan)
    _, widget = ask(kernel, "-m broken")
    assert widget.state["status"] == status
    if title:
        assert widget.state["error"]["title"] == title
    next_cell_works(kernel)


def test_stop_twice_and_after_the_end_are_harmless(kernel, server):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.02))
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m slow\nhello")
    kernel.pump(execution, until=lambda _: any(w.deltas for w in kernel.chat_widgets()))
    widget = kernel.chat_widgets()[0]
    kernel.stop_widget(widget)
    kernel.stop_widget(widget)
    kernel.pump(execution, timeout=5)
    assert execution.status == "ok"
    assert widget.state["status"] == "stopped"
    kernel.stop_widget(widget)
    next_cell_works(kernel)


def test_nothing_is_left_behind(kernel, server):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.01))
    probe = "import asyncio; print(len(asyncio.all_tasks()))"
    process = psutil.Process(kernel.pid)

    def stopped_answer() -> None:
        kernel.widgets.clear()
        execution = kernel.start("%%chat -m slow\nhello")
        kernel.pump(execution, until=lambda _: any(w.deltas for w in kernel.chat_widgets()))
        kernel.stop_widget(kernel.chat_widgets()[0])
        kernel.pump(execution, timeout=5)
        next_cell_works(kernel)

    # The first answer in a kernel opens what every later one shares (the runtime model's
    # comm, the event loop's resources): measure from after it, then five more.
    stopped_answer()
    tasks_before = kernel.run(probe).stdout
    fds_before = process.num_fds()
    for _ in range(5):
        stopped_answer()
    assert kernel.run(probe).stdout == tasks_before
    assert process.num_fds() <= fds_before
    connections = [c for c in process.net_connections() if c.raddr and c.raddr.port == server.port]
    assert connections == []


def test_the_key_never_appears_in_outputs_or_state(kernel, server):
    server.add_model("mid-error", Plan(tokens=["x "], error_after=1))
    kernel.widgets.clear()
    since = len(kernel.wire)
    kernel.run("%%chat -m no-such-model\nhi")
    kernel.run("%%chat -m mid-error\nhi")
    kernel.run("print(_chat, repr(_chat), _chat.error)")
    kernel.run("%chat history")
    assert server.api_key not in json.dumps(kernel.written(since), default=str)
    assert server.api_key not in json.dumps([w.state for w in kernel.widgets.values()])


def test_a_new_answer_from_the_same_cell_stops_the_live_one(kernel, server):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.1))  # 30 s unless stopped
    kernel.widgets.clear()
    started = kernel.run(
        "import asyncio, streamchat_widget\n"
        "old = asyncio.ensure_future(\n"
        '    streamchat_widget.chat("old", model="slow", cell_id="same-cell")\n'
        ")"
    )
    # The old answer streams: its first delta has reached the front end.
    kernel.pump(started, until=lambda _: any(w.deltas for w in kernel.chat_widgets()), timeout=10)
    (slow_request,) = server.requests
    execution = kernel.run(
        'new = await streamchat_widget.chat("new", model="echo", cell_id="same-cell")\n'
        "print((await old).status, new.status)"
    )
    assert execution.stdout == "stopped done\n"
    assert server.wait_for_disconnect(slow_request.id, timeout=2).disconnected


def test_kernel_interrupt_before_the_first_byte(kernel, server):
    execution = start_before_the_first_byte(kernel, server)
    kernel.manager.interrupt_kernel()
    kernel.pump(execution, timeout=5)
    assert execution.error["ename"] == "ChatInterrupted"
    assert kernel.chat_widgets()[0].state["status"] == "stopped"
    assert server.wait_for_disconnect(timeout=2).disconnected
    next_cell_works(kernel)


def _sse(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunk(delta: dict | None = None, finish: str | None = None, **extra) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return _sse({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": choices, **extra})  # fmt: skip


def _calls(*calls: tuple[object, object]) -> dict:
    """Tool-call deltas from (index, arguments) pairs."""
    return {"tool_calls": [{"index": index, "id": "c1", "type": "function",
                            "function": {"name": "f", "arguments": arguments}}
                           for index, arguments in calls]}  # fmt: skip


# Values of the wrong type from a server, each followed by the rest of the answer.
ODD_VALUES = {
    "arguments-object": (_chunk(_calls((0, {"a": 1}))), "_chat.tool_calls", "[{'id': 'c1', "
                         "'name': 'f', 'arguments': '{\"a\": 1}'}]"),
    "refusal-number": (_chunk({"refusal": 42}), "repr(_chat.refusal)", "'42'"),
    "index-word": (_chunk(_calls((0, "{"), ("one", "}"))), "_chat.tool_calls[0]['arguments']",
                   "{}"),
    "usage-word": (_chunk(None, usage={"prompt_tokens": 1, "completion_tokens": "many",
                                       "total_tokens": 2}),
                   "_chat.usage", "{'prompt_tokens': 1, 'total_tokens': 2}"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ODD_VALUES))
def test_a_value_of_the_wrong_type_costs_nothing_of_the_answer(kernel, server, case):
    odd, probe, expected = ODD_VALUES[case]
    words = [f"t{i} " for i in range(100)]
    rest = [_chunk({"content": w}) for w in words]
    server.add_model("odd", Plan(raw=[_chunk({"content": "start "}), odd, *rest,
                                      _chunk({}, "stop")]))  # fmt: skip
    execution, widget = ask(kernel, "-m odd")
    assert widget.state["status"] == "done"
    assert widget.streamed_text == "start " + "".join(words), "never cut short"
    assert not any(o["output_type"] == "error" for o in execution.outputs)
    assert kernel.run(f"print(_chat.status, repr(_chat.text[-4:]), {probe})").stdout == (
        f"done 't99 ' {expected}\n"
    )


def test_a_recording_that_cannot_be_written_is_an_error_card_keeping_the_answer(
    kernel, server, tmp_path
):
    path = tmp_path / "rec.jsonl"
    assert kernel.run(f"%chat record {path}").status == "ok"
    path.unlink()
    path.mkdir()  # the file became a directory: every write to it fails
    execution, widget = ask(kernel, "-m echo")
    assert widget.state["status"] == "error"
    assert widget.state["error"]["title"] == "Could not record this exchange"
    assert "IsADirectoryError" in widget.state["error"]["message"]
    assert widget.streamed_text == "hello"
    markdown = next(iter(execution.displays.values()))["data"]["text/markdown"]
    assert markdown.startswith("hello") and "Could not record" in markdown
    assert kernel.run("print(_chat.status, repr(_chat.text))").stdout == "error 'hello'\n"
    kernel.run("%chat record --stop")
    next_cell_works(kernel)


def test_a_display_update_that_fails_is_an_error_card_not_a_live_widget(kernel, server):
    # The front end's side fails (the display publisher raises on updates): the
    # answer must still end, as an error card in the widget, with its text kept.
    code = (
        "import streamchat_widget\n"
        "publisher = get_ipython().display_pub\n"
        "publish = publisher.publish\n"
        "def failing(*args, update=False, **kwargs):\n"
        "    if update:\n"
        "        raise RuntimeError('the display cannot be updated')\n"
        "    return publish(*args, update=update, **kwargs)\n"
        "publisher.publish = failing\n"
        "try:\n"
        "    reply = await streamchat_widget.chat('hello', model='echo')\n"
        "finally:\n"
        "    publisher.publish = publish\n"
        "print(reply.status, repr(reply.text), reply.error['title'])"
    )
    execution = kernel.run(code)
    assert execution.status == "ok", execution.outputs
    assert execution.stdout == "error 'hello' Could not show the finished answer\n"
    (widget,) = kernel.chat_widgets()
    assert widget.state["status"] == "error"
    assert "the display cannot be updated" in widget.state["error"]["message"]
    assert widget.streamed_text == "hello"
    next_cell_works(kernel)


SECRET_KEY = "sk-live-VERYSECRET-0123456789"
BAD_BASE_URLS = [
    "http://127.0.0.1:abc/v1",
    "http://127.0.0.1:99999/v1",
    "127.0.0.1:8000/v1",
    "http://127.0.0.1:8000 /v1",
    "http://someone:URLPASSWORD@127.0.0.1:99999/v1?api-key=URLSECRET",
]


def test_a_malformed_base_url_is_a_card_and_verbose_tracebacks_never_show_the_key():
    env = {"OPENAI_API_KEY": SECRET_KEY, "OPENAI_BASE_URL": BAD_BASE_URLS[0]}
    with Kernel(env) as k:
        k.run("%load_ext streamchat_widget")
        k.run("%xmode Verbose")
        for url in BAD_BASE_URLS:
            k.run(f"import os; os.environ['OPENAI_BASE_URL'] = {url!r}")
            execution = k.run("%%chat -m gpt-x\nhello")
            assert execution.status == "ok", execution.outputs
            assert not any(o["output_type"] == "error" for o in execution.outputs)
            widget = k.chat_widgets()[-1]
            assert widget.state["status"] == "error"
            assert widget.state["error"]["title"] == "Invalid OPENAI_BASE_URL"
        k.run("print(_chat, repr(_chat))")
        messages = k.wire
        written = k.written()
        states = [w.state for w in k.widgets.values()]
    assert SECRET_KEY not in json.dumps([messages, states], default=str)
    # The URL's own credentials: only in the code that set them, nowhere the kernel wrote.
    for secret in ("URLPASSWORD", "URLSECRET"):
        assert secret not in json.dumps([written, states], default=str)


def test_a_silent_server_costs_one_timeout_not_one_per_retry(kernel, server):
    server.add_model("loading", Plan(hang_before_headers=True))
    kernel.run("%config ChatMagics.timeout = 1.5")
    started = time.monotonic()
    _, widget = ask(kernel, "-m loading")
    waited = time.monotonic() - started
    assert widget.state["error"]["title"] == "Timed out"
    assert "retries included" in widget.state["error"]["message"]
    # Three attempts of 1.5 s each (and the backoff between them) took over 4.5 s.
    assert waited < 3.0
    attempts = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert len(attempts) <= 2


def test_each_retry_shows_as_it_happens(kernel, server):
    server.add_model("flaky", Plan(tokens=["back"], status=503, fail_times=2))
    _, widget = ask(kernel, "-m flaky")
    assert widget.state["status"] == "done"
    shown = [u["retrying"] for u in widget.updates if u.get("retrying")]
    assert shown == ["retrying… (attempt 2)", "retrying… (attempt 3)"]
    assert widget.state["retrying"] == ""


def test_a_retry_shows_while_the_client_waits_to_make_it(kernel, server):
    server.add_model("busy", Plan(tokens=["ok"], status=503, fail_times=1, retry_after=2))
    execution = kernel.start("%%chat -m busy\nhello")

    def retrying(_) -> bool:
        widgets = kernel.chat_widgets()
        return bool(widgets) and widgets[0].state.get("retrying", "") != ""

    kernel.pump(execution, until=retrying, timeout=10)
    shown = time.monotonic()
    (_, retry) = server.wait_for_requests(2, timeout=10)
    assert retry.started - shown > 1.0, "shown during the 2 s the server asked to wait"
    kernel.pump(execution)
    assert kernel.chat_widgets()[0].state["status"] == "done"
