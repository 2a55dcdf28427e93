"""`%%chat` in a real ipykernel, driven over ZMQ as a notebook front end would."""

from __future__ import annotations

import json
import time

import pytest

from tests.kernel import Kernel
from tests.sse_server import Plan

SLOW_TOKENS = [f"tok{i} " for i in range(400)]


def _wait_for_text(kernel: Kernel, execution, chars: int = 30):
    def streaming(e) -> bool:
        widgets = kernel.chat_widgets()
        return bool(widgets) and len(widgets[-1].streamed_text) >= chars

    kernel.pump(execution, until=streaming, timeout=15)
    return kernel.chat_widgets()[-1]


def _markdown(execution) -> str:
    (output,) = execution.displays.values()
    return output["data"]["text/markdown"]


def test_stop_message_ends_the_cell_keeps_partial_text_and_closes_upstream(kernel, server):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m slow\nCount slowly.")
    widget = _wait_for_text(kernel, execution)
    assert widget.state["status"] == "streaming"

    clicked = time.monotonic()
    kernel.stop_widget(widget)
    kernel.pump(execution, timeout=5)
    assert time.monotonic() - clicked < 1.0
    assert execution.status == "ok"

    assert widget.state["status"] == "stopped"
    partial = widget.streamed_text
    assert partial.startswith("tok0 tok1 ")
    assert len(partial) < len("".join(SLOW_TOKENS))
    record = server.wait_for_disconnect(timeout=2)
    assert record.disconnected
    assert record.chunks_sent < len(SLOW_TOKENS)
    assert partial.strip() in _markdown(execution)
    assert kernel.run("print(repr(_chat.text))").stdout == repr(partial) + "\n"


def test_kernel_interrupt_stops_the_answer_keeps_it_and_halts(kernel, server, tmp_path):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    recording = tmp_path / "interrupted.jsonl"
    assert kernel.run(f"%chat record {recording}").status == "ok"
    execution = kernel.start("%%chat -m slow -c interrupted\nCount slowly.")
    widget = _wait_for_text(kernel, execution)

    kernel.manager.interrupt_kernel()
    kernel.pump(execution, timeout=5)
    assert execution.status == "error"
    assert execution.error["ename"] == "ChatInterrupted"
    assert len(execution.error["traceback"]) == 1, "one line, not a traceback wall"
    assert widget.state["status"] == "stopped"
    partial = widget.streamed_text
    assert partial.startswith("tok0 ")
    assert partial.strip() in _markdown(execution)
    assert server.wait_for_disconnect(timeout=2).disconnected

    check = kernel.run("print(repr(_chat.text), _chat.status, _chat.model)")
    assert check.stdout == f"{partial!r} stopped slow\n"
    history = kernel.run("%chat history -c interrupted").stdout
    assert f"[1] assistant (stopped): {partial}\n" in history
    (line,) = recording.read_text(encoding="utf-8").splitlines()
    recorded = json.loads(line)
    assert recorded["status"] == "stopped"
    assert "".join(f["text"] for _, kind, f in recorded["events"] if kind == "TextDelta") == partial


CANCELLERS = {
    "wait_for": (
        "try:\n"
        "    await asyncio.wait_for(ask(), 0.5)\n"
        "except TimeoutError:\n"
        "    print('TimeoutError')\n"
    ),
    "timeout": (
        "try:\n"
        "    async with asyncio.timeout(0.5):\n"
        "        await ask()\n"
        "except TimeoutError:\n"
        "    print('TimeoutError')\n"
    ),
    "task_group": (
        "async def sibling_fails():\n"
        "    await asyncio.sleep(0.5)\n"
        "    raise ValueError('a sibling failed')\n"
        "try:\n"
        "    async with asyncio.TaskGroup() as group:\n"
        "        group.create_task(ask())\n"
        "        group.create_task(sibling_fails())\n"
        "except ExceptionGroup as failed:\n"
        "    print([type(e).__name__ for e in failed.exceptions])\n"
    ),
}
CANCELLED_PRINTS = {"wait_for": "TimeoutError\n", "timeout": "TimeoutError\n",
                    "task_group": "['ValueError']\n"}  # fmt: skip
ASK = """
import asyncio, streamchat_widget
from streamchat_widget.conversation import CONVERSATIONS
def ask():
    return streamchat_widget.chat("Count slowly.", model="slow", conversation="api")
"""
LAST_EXCHANGE = (
    "exchange = CONVERSATIONS.get('api').exchanges[-1]\n"
    "print(repr(exchange.assistant), exchange.status)"
)


@pytest.mark.parametrize("canceller", sorted(CANCELLERS))
def test_python_api_honours_asyncio_cancellation_and_keeps_the_partial(kernel, server, canceller):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    execution = kernel.run(ASK + CANCELLERS[canceller])
    assert execution.status == "ok", execution.outputs
    assert execution.stdout == CANCELLED_PRINTS[canceller]
    (widget,) = kernel.chat_widgets()
    assert widget.state["status"] == "stopped"
    partial = widget.streamed_text
    assert partial.startswith("tok0 ")
    assert partial.strip() in _markdown(execution), "the static copy replaced the widget"
    assert server.wait_for_disconnect(timeout=2).disconnected
    assert kernel.run(LAST_EXCHANGE).stdout == f"{partial!r} stopped\n"


def test_a_second_cancellation_during_cleanup_still_ends_the_widget(kernel, server):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    started = kernel.start(ASK + "answer_task = asyncio.ensure_future(ask())")
    _wait_for_text(kernel, started)
    kernel.pump(started)
    twice = (
        "answer_task.cancel()\n"
        "await asyncio.sleep(0)  # the answer starts its cleanup\n"
        "answer_task.cancel()\n"
        "try:\n"
        "    await answer_task\n"
        "except asyncio.CancelledError:\n"
        "    print('cancelled')\n"
    )
    execution = kernel.run(twice)
    assert execution.stdout == "cancelled\n"
    (widget,) = kernel.chat_widgets()
    assert widget.state["status"] == "stopped"
    # Output of a task goes to the cell that started it (ipykernel keeps its parent).
    assert widget.streamed_text.strip() in _markdown(started)
    assert server.wait_for_disconnect(timeout=2).disconnected
    assert kernel.run(LAST_EXCHANGE).stdout == f"{widget.streamed_text!r} stopped\n"


def _chunk(delta: dict, finish: str | None = None) -> bytes:
    payload = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def test_a_surrogate_pair_split_across_chunks_arrives_as_one_character(kernel, server, tmp_path):
    # As a proxy that slices UTF-16 sends it: valid JSON, half a character per chunk.
    server.add_model("halves", Plan(raw=[
        _chunk({"content": "\ud83d"}), _chunk({"content": "\ude00 and more,"}),
        _chunk({"content": " lone \ud83d"}), _chunk({"content": " end"}), _chunk({}, "stop"),
    ]))  # fmt: skip
    recording = tmp_path / "halves.jsonl"
    kernel.run(f"%chat record {recording}")
    execution = kernel.run("%%chat -m halves\nhello")
    assert execution.status == "ok", execution.outputs
    (widget,) = kernel.chat_widgets()
    expected = "\U0001f600 and more, lone \ufffd end"
    assert widget.state["status"] == "done"
    assert widget.streamed_text == expected
    assert _markdown(execution).startswith(expected)
    assert kernel.run("print(ascii(_chat.text))").stdout == ascii(expected) + "\n"
    (line,) = recording.read_text(encoding="utf-8").splitlines()
    texts = [f["text"] for _, kind, f in json.loads(line)["events"] if kind == "TextDelta"]
    assert "".join(texts) == expected


def test_the_demo_asked_for_by_name_does_not_claim_no_endpoint_is_set(kernel):
    kernel.run("%%chat -m demo\nThree names for a cat")
    (widget,) = kernel.chat_widgets()
    assert widget.state["badge"] == "offline demo"
    assert widget.state["status"] == "done"
    assert "No API key" not in widget.state["notice"]
    assert "at your request" in widget.state["notice"]


def test_run_all_answers_in_order_each_cell_waiting_for_its_answer(kernel, server):
    server.add_model("echo-slow", Plan(echo=True, delay=0.02))
    kernel.widgets.clear()
    first = kernel.start("%%chat -m echo-slow\nthe first prompt has these words")
    second = kernel.start("%%chat -m echo-slow\nthen the second one")
    third = kernel.start("print(repr(_chat.text), _chat.status)")
    for execution in (first, second, third):
        kernel.pump(execution, timeout=15)
        assert execution.status == "ok"
    texts = [w.streamed_text for w in kernel.chat_widgets()]
    assert texts == ["the first prompt has these words", "then the second one"]
    assert _markdown(first).startswith("the first prompt has these words")
    assert third.stdout == "'then the second one' done\n"


def test_errors_show_in_the_widget_without_traceback_or_key(kernel, server):
    kernel.widgets.clear()
    since = len(kernel.wire)
    execution = kernel.run("%%chat -m no-such-model\nhello")
    assert execution.status == "ok"
    (widget,) = kernel.chat_widgets()
    assert widget.state["status"] == "error"
    assert widget.state["error"]["title"] == "Model or endpoint not found (404)"
    assert "no-such-model" in widget.state["error"]["message"]
    assert "Error" in _markdown(execution)
    assert not any(o["output_type"] == "error" for o in execution.outputs)
    assert server.api_key not in json.dumps(kernel.written(since), default=str)
    assert server.api_key not in json.dumps(widget.state)


def test_error_in_the_middle_of_the_stream_keeps_the_partial_answer(kernel, server):
    server.add_model(
        "fails",
        Plan(
            tokens=["one ", "two ", "three "], error_after=2, error_event={"message": "overloaded"}
        ),
    )
    kernel.widgets.clear()
    execution = kernel.run("%%chat -m fails\nhello")
    (widget,) = kernel.chat_widgets()
    assert execution.status == "ok"
    assert widget.state["status"] == "error"
    assert widget.streamed_text == "one two "
    assert _markdown(execution).startswith("one two")
    assert "overloaded" in widget.state["error"]["message"]


def test_deltas_are_numbered_and_coalesced(kernel, server):
    server.add_model("fast", Plan(tokens=[f"w{i} " for i in range(2000)]))
    kernel.widgets.clear()
    kernel.run("%%chat -m fast\ngo")
    (widget,) = kernel.chat_widgets()
    assert [d["seq"] for d in widget.deltas] == list(range(1, len(widget.deltas) + 1))
    assert widget.streamed_text == "".join(f"w{i} " for i in range(2000))
    assert len(widget.deltas) < 200, "2000 tokens must not become 2000 messages"


def test_without_autoawait_the_synchronous_magic_answers_and_interrupt_stops_it(server):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    server.add_model("echo", Plan(echo=True))
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget\n%autoawait False").status == "ok"
        done = k.run("%%chat -m echo\nsync works")
        assert done.status == "ok"
        assert k.chat_widgets()[-1].streamed_text == "sync works"
        called = k.run("get_ipython().run_cell_magic('chat', '-m echo', 'called directly')")
        assert called.status == "ok"
        assert k.chat_widgets()[-1].streamed_text == "called directly"

        execution = k.start("%%chat -m slow\nCount slowly.")
        widget = _wait_for_text(k, execution)
        k.manager.interrupt_kernel()
        k.pump(execution, timeout=5)
        assert execution.error["ename"] == "ChatInterrupted"
        assert widget.state["status"] == "stopped"
        assert server.wait_for_disconnect(timeout=2).disconnected


def test_offline_demo_model_answers_without_key_or_base_url():
    with Kernel({"STREAMCHAT_DEMO_DELAY": "0"}) as k:
        k.run("%load_ext streamchat_widget")
        execution = k.run("%%chat\nThree names for a cat")
        (widget,) = k.chat_widgets()
        assert widget.state["badge"] == "offline demo"
        assert widget.state["model_name"] == "demo"
        assert widget.state["status"] == "done"
        assert "Three names for a cat" in widget.streamed_text
        assert "offline demo" in _markdown(execution)

        execution = k.run("%%chat -m gpt-4o-mini\nhello")
        assert k.chat_widgets()[-1].state["status"] == "error"
        assert "OPENAI_API_KEY" in k.chat_widgets()[-1].state["error"]["message"]


def test_a_stopped_answer_enters_history_as_the_partial_text(kernel, server):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    kernel.run("%chat reset --all")
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m slow\nCount slowly.")
    widget = _wait_for_text(kernel, execution)
    kernel.stop_widget(widget)
    kernel.pump(execution, timeout=5)
    partial = widget.streamed_text

    kernel.run("%%chat -m echo\nnext")
    assert server.last_request().body["messages"] == [
        {"role": "user", "content": "Count slowly."},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": "next"},
    ]
    assert "[1] assistant (stopped): tok0" in kernel.run("%chat history").stdout


def test_front_end_cell_ids_make_a_rerun_replace_its_exchange(kernel, server):
    kernel.run("%chat reset --all")
    kernel.run("%%chat -m echo\ndraft one", cell_id="cell-a")
    kernel.run("%%chat -m echo\ndraft two", cell_id="cell-a")
    kernel.run("%%chat -m echo\nafter", cell_id="cell-b")
    contents = [m["content"] for m in server.last_request().body["messages"]]
    assert contents == ["draft two", "draft two", "after"]


def test_reply_values_are_ready_for_the_next_cell_under_run_all(kernel, server):
    kernel.run("%chat reset --all")
    first = kernel.start("%%chat -m echo --out first\nalpha")
    second = kernel.start("%%chat -m echo\nbeta")
    check = kernel.start(
        "print(first.text, _chat.text, first.status, _chat.usage['completion_tokens'])"
    )
    for execution in (first, second, check):
        kernel.pump(execution)
    assert check.stdout == "alpha beta done 1\n"
