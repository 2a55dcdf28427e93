"""`%%chat -m A -m B`: the same messages to each model at once, one column each.

Through a real kernel (`tests/kernel.py`) against the loopback server, which
timestamps every request: that is how these tests see the requests overlap,
one column stop while the others stream on, and one fail while the others finish.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from streamchat_widget import options
from streamchat_widget.magic import ChatMagics
from tests.kernel import Execution, Kernel, Widget
from tests.sse_server import Plan

TOKENS = [f"tok{i} " for i in range(500)]  # 10 s at 50 tokens/s: a column not stopped shows


def _chat_requests(server) -> dict[str, object]:
    """The chat requests of the test, by model."""
    return {r.body["model"]: r for r in server.requests if r.path.endswith("/chat/completions")}


def _comparison(kernel: Kernel) -> tuple[Widget, list[Widget]]:
    """The comparison's widget and its column widgets, in column order."""
    container = next(w for w in kernel.widgets.values() if "columns" in w.state)
    columns = [kernel.widgets[ref.removeprefix("IPY_MODEL_")] for ref in container.state["columns"]]
    return container, columns


def _streaming(kernel: Kernel, execution: Execution, columns: int) -> tuple[Widget, list[Widget]]:
    """Pump until every column has streamed some text."""

    def enough(_execution: Execution) -> bool:
        if not any("columns" in w.state for w in kernel.widgets.values()):
            return False
        _, shown = _comparison(kernel)
        return len(shown) == columns and all(len(w.streamed_text) >= 30 for w in shown)

    kernel.pump(execution, until=enough, timeout=15)
    return _comparison(kernel)


def _value(kernel: Kernel, expression: str):
    return json.loads(kernel.run(f"import json; print(json.dumps({expression}))").stdout)


class _Answers(HTMLParser):
    """The `.streamchat` answers of a static copy, with their status, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str] = []
        self.models: list[str] = []
        self._in_model = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if "streamchat" in classes:
            self.answers.append(found["data-status"])
        self._in_model = "streamchat-model" in classes

    def handle_data(self, data):
        if self._in_model:
            self.models.append(data)
            self._in_model = False


def test_the_requests_go_out_at_once_and_overlap_at_the_server(kernel, server):
    server.add_model("a", Plan(tokens=TOKENS[:40], delay=0.02))
    server.add_model("b", Plan(tokens=TOKENS[:40], delay=0.02))
    server.add_model("c", Plan(tokens=TOKENS[:40], delay=0.02))
    execution = kernel.run("%%chat -m a -m b -m c\nSame question to all.")
    assert execution.status == "ok", execution.error
    requests = _chat_requests(server)
    assert set(requests) == {"a", "b", "c"}
    # Each took ~0.8 s: one after another, each would start after the one before finished.
    last_start = max(r.started for r in requests.values())
    first_end = min(r.finished for r in requests.values())
    assert last_start < first_end, "the requests did not overlap in time"
    assert all(r.body["messages"] == requests["a"].body["messages"] for r in requests.values())


def test_each_column_streams_its_own_answer_status_and_figures(kernel, server):
    server.add_model("a", Plan(tokens=["alpha "] * 12, delay=0.01))
    server.add_model("b", Plan(tokens=["beta "] * 7, delay=0.01))
    assert kernel.run("%%chat -m a -m b\nHi").status == "ok"
    _, (first, second) = _comparison(kernel)
    assert (first.state["model_name"], second.state["model_name"]) == ("1 · a", "2 · b")
    assert first.streamed_text == "alpha " * 12 and second.streamed_text == "beta " * 7
    for widget, tokens in ((first, 12), (second, 7)):
        assert widget.state["status"] == "done"
        assert widget.state["usage"]["completion_tokens"] == tokens
        assert {"ttft_s", "tokens_per_s", "elapsed_s"} <= set(widget.state["stats"])
    assert _value(kernel, "[[r.model, r.status, r.text] for r in _chat]") == [
        ["a", "done", "alpha " * 12],
        ["b", "done", "beta " * 7],
    ]
    assert _value(kernel, "[_chat[0].text == str(_chat[0]), type(_chat).__name__]") == [
        True,
        "Replies",
    ]


def test_a_single_model_still_gives_a_reply(kernel, server):
    assert kernel.run("%%chat -m echo\nJust one").status == "ok"
    assert _value(kernel, "[type(_chat).__name__, _chat.text]") == ["Reply", "Just one"]
    assert not any("columns" in w.state for w in kernel.widgets.values())


def test_out_stores_the_replies_in_the_order_given(kernel, server):
    server.add_model("b", Plan(tokens=["bee"]))
    assert kernel.run("%%chat -m b -m echo --out both\nordered").status == "ok"
    assert _value(kernel, "[r.model for r in both]") == ["b", "echo"]
    assert _value(kernel, "both is _chat") is True


@pytest.mark.stop
def test_stopping_one_column_leaves_the_others_streaming(kernel, server):
    server.add_model("long", Plan(tokens=TOKENS, delay=0.02))
    server.add_model("short", Plan(tokens=TOKENS[:120], delay=0.02))
    execution = kernel.start("%%chat -m long -m short\nCount.")
    _, (long, short) = _streaming(kernel, execution, 2)
    kernel.stop_widget(long)
    stopped = server.wait_for_disconnect(_chat_requests(server)["long"].id, timeout=5)
    kernel.pump(execution, timeout=15)
    assert execution.status == "ok", execution.error
    other = _chat_requests(server)["short"]
    assert not other.disconnected and other.finished > stopped.disconnected_at
    assert (long.state["status"], short.state["status"]) == ("stopped", "done")
    assert _value(kernel, "[r.status for r in _chat]") == ["stopped", "done"]
    assert _value(kernel, "_chat[1].text") == "".join(TOKENS[:120])


@pytest.mark.stop
def test_stop_for_all_stops_every_column(kernel, server):
    server.add_model("a", Plan(tokens=TOKENS, delay=0.02))
    server.add_model("b", Plan(tokens=TOKENS, delay=0.02))
    execution = kernel.start("%%chat -m a -m b\nCount.")
    container, columns = _streaming(kernel, execution, 2)
    kernel.stop_widget(container)
    for request in _chat_requests(server).values():
        assert server.wait_for_disconnect(request.id, timeout=5).chunks_sent < len(TOKENS)
    kernel.pump(execution, timeout=15)
    assert execution.status == "ok", execution.error
    assert [w.state["status"] for w in columns] == ["stopped", "stopped"]
    assert kernel.run("print('next cell runs')").stdout == "next cell runs\n"


@pytest.mark.parametrize("failing", ["missing-model", "breaks"])
def test_a_failing_model_is_its_columns_error_card_and_the_others_finish(kernel, server, failing):
    server.add_model("breaks", Plan(tokens=TOKENS[:50], delay=0.01, error_after=5))
    server.add_model("fine", Plan(tokens=TOKENS[:60], delay=0.01))
    execution = kernel.run(f"%%chat -m {failing} -m fine\nGo.")
    assert execution.status == "ok", execution.error
    _, (bad, good) = _comparison(kernel)
    assert bad.state["status"] == "error" and bad.state["error"]["title"]
    assert good.state["status"] == "done" and good.state["error"] == {}
    assert _value(kernel, "[r.status for r in _chat]") == ["error", "done"]
    assert _value(kernel, "_chat[1].text") == "".join(TOKENS[:60])
    # The first model's answer was to enter the conversation: it failed, so none did.
    assert _value(kernel, "_chat.kept") is None
    assert "no exchanges" in kernel.run("%chat history").stdout


def test_the_first_answer_enters_the_conversation_unless_keep_names_another(kernel, server):
    server.add_model("a", Plan(tokens=["from ", "a"]))
    server.add_model("b", Plan(tokens=["from ", "b"]))
    assert kernel.run("%%chat -m a -m b\nfirst", cell_id="cell-1").status == "ok"
    container, _ = _comparison(kernel)
    assert "1 · a" in container.state["kept"]
    assert kernel.run("%%chat -m echo\nsecond", cell_id="cell-2").status == "ok"
    assert _chat_requests(server)["echo"].body["messages"][1] == {
        "role": "assistant",
        "content": "from a",
    }
    # Re-running the comparison with --keep 2 replaces its exchange in place.
    kernel.widgets.clear()
    assert kernel.run("%%chat -m a -m b --keep 2\nfirst", cell_id="cell-1").status == "ok"
    assert "2 · b" in _comparison(kernel)[0].state["kept"]
    assert _value(kernel, "_chat.kept") == 1
    history = kernel.run("%chat history").stdout
    assert "[1] assistant: from b" in history and "from a" not in history


def test_keep_outside_the_columns_is_a_readable_usage_error(kernel, server):
    execution = kernel.run("%%chat -m a -m b --keep 3\nq")
    said = "".join(o.get("text", "") for o in execution.outputs)
    assert said.startswith("UsageError: --keep 3: give a column from 1 to 2"), said
    assert _chat_requests(server) == {}


def test_the_static_copy_shows_the_columns_in_html_and_one_after_another_in_markdown(
    kernel, server
):
    server.add_model("a", Plan(tokens=["# Alpha\n", "<script>x()</script>"]))
    execution = kernel.run("%%chat -m a -m echo\nbeta text")
    (output,) = execution.displays.values()
    data = output["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    answers = _Answers()
    answers.feed(data["text/html"])
    assert answers.answers == ["done", "done"]
    assert answers.models == ["a", "echo"]
    assert "<script>x()" not in data["text/html"]  # the model's markup stays text
    tokens = MarkdownIt().parse(data["text/markdown"])
    headings = [
        "".join(child.content for child in tokens[i + 1].children or [])
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]
    assert headings == ["1 · a (in the conversation)", "Alpha", "2 · echo"]
    assert not any(t.type in ("html_block", "html_inline") for t in tokens)
    markdown = data["text/markdown"]
    assert markdown.index("a · done") < markdown.index("beta text") < markdown.index("echo · done")
    provenance = output["metadata"]["text/markdown"]["streamchat"]
    assert [p["model"] for p in provenance["comparison"]] == ["a", "echo"]
    assert provenance["kept"] == 0


def test_the_demo_model_answers_twice_labelled_and_replays_offline(kernel, server, tmp_path):
    path = tmp_path / "compare.jsonl"
    kernel.run(f"%chat record {path}")
    assert kernel.run("%%chat -m demo -m demo\nName a cat.").status == "ok"
    kernel.run("%chat record --stop")
    _, columns = _comparison(kernel)
    assert [w.state["model_name"] for w in columns] == ["1 · demo", "2 · demo"]
    assert [w.state["badge"] for w in columns] == ["offline demo", "offline demo"]
    recorded = _value(kernel, "[[r.model, r.status, r.text] for r in _chat]")
    assert [r[:2] for r in recorded] == [["demo", "done"], ["demo", "done"]]
    assert len(path.read_text().splitlines()) == 2

    kernel.widgets.clear()
    kernel.run("%chat reset --all")  # as a fresh kernel re-running the notebook has it
    assert "2 recorded" in kernel.run(f"%chat replay {path}").stdout
    assert kernel.run("%%chat -m demo -m demo\nName a cat.").status == "ok"
    _, columns = _comparison(kernel)
    assert [w.state["badge"] for w in columns] == ["replay", "replay"]
    assert _value(kernel, "[[r.model, r.status, r.text] for r in _chat]") == recorded


def test_compare_is_the_python_api(kernel, server):
    server.add_model("a", Plan(tokens=["one"]))
    cell = (
        "from streamchat_widget import compare\n"
        "replies = await compare('api prompt', models=['a', 'echo'], keep=1)\n"
        "print([r.model for r in replies], replies.kept, replies[1].text)"
    )
    assert kernel.run(cell).stdout == "['a', 'echo'] 1 api prompt\n"
    assert "[1] assistant: api prompt" in kernel.run("%chat history").stdout


def test_pick_puts_another_column_in_the_conversation_and_says_so_in_the_copy(kernel, server):
    server.add_model("a", Plan(tokens=["from ", "a"]))
    server.add_model("b", Plan(tokens=["from ", "b"]))
    execution = kernel.run("%%chat -m a -m b\nfirst", cell_id="cell-1")
    assert execution.status == "ok"
    picked = kernel.run("%chat pick 2")
    assert picked.stdout == (
        "The answer of column 2 · b is now the exchange in conversation 'default'.\n"
    )
    history = kernel.run("%chat history").stdout
    assert "[1] assistant: from b" in history and "[2]" not in history
    assert _value(kernel, "_chat.kept") == 1
    # The comparison's own output is updated in place (same display id).
    assert picked.displays.keys() == execution.displays.keys()
    (output,) = picked.displays.values()
    tokens = MarkdownIt().parse(output["data"]["text/markdown"])
    headings = [
        "".join(child.content for child in tokens[i + 1].children or [])
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]
    assert headings == ["1 · a", "2 · b (in the conversation)"]
    assert output["metadata"]["text/markdown"]["streamchat"]["kept"] == 1


def test_pick_refuses_a_failed_column_or_one_that_is_not_there(kernel, server):
    server.add_model("b", Plan(tokens=["fine"]))
    assert kernel.run("%%chat -m missing-model -m b\nq").status == "ok"
    for command, refusal in (
        ("%chat pick 1", "column 1 · missing-model ended with an error"),
        ("%chat pick 3", "column 3: the latest comparison has columns 1 to 2"),
    ):
        said = "".join(o.get("text", "") for o in kernel.run(command).outputs)
        assert said.startswith(f"UsageError: %chat pick: {refusal}"), said
    assert "no exchanges" in kernel.run("%chat history").stdout
    assert kernel.run("%chat pick 2").status == "ok"
    assert "[1] assistant: fine" in kernel.run("%chat history").stdout


def test_kernel_interrupt_stops_every_column_keeps_the_replies_and_halts(kernel, server):
    server.add_model("a", Plan(tokens=TOKENS, delay=0.02))
    server.add_model("b", Plan(tokens=TOKENS, delay=0.02))
    execution = kernel.start("%%chat -m a -m b\nCount.")
    _, columns = _streaming(kernel, execution, 2)
    kernel.manager.interrupt_kernel()
    kernel.pump(execution, timeout=5)
    assert execution.status == "error"
    assert execution.error["ename"] == "ChatInterrupted"
    assert len(execution.error["traceback"]) == 1
    for request in _chat_requests(server).values():
        assert server.wait_for_disconnect(request.id, timeout=2).chunks_sent < len(TOKENS)
    assert [w.state["status"] for w in columns] == ["stopped", "stopped"]
    assert _value(kernel, "[r.status for r in _chat]") == ["stopped", "stopped"]
    assert _value(kernel, "_chat[0].text") == columns[0].streamed_text
    assert "[1] assistant (stopped): tok0 " in kernel.run("%chat history").stdout


def test_a_plain_script_prints_the_answers_one_after_another(server, tmp_path):
    """Where no widget can show, the columns' text goes to stdout at the end, labelled."""
    script = tmp_path / "compare_script.py"
    script.write_text(
        "import asyncio, streamchat_widget\n"
        "replies = asyncio.run(streamchat_widget.compare('plain words', models=['echo', 'echo']))\n"
        "print([r.status for r in replies])\n"
    )
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.index("== 1 · echo"), done.stdout.index("== 2 · echo ==")
    assert first < done.stdout.index("plain words", first) < second
    assert done.stdout.rstrip().endswith("['done', 'done']")
    assert "text/html" not in done.stdout and "<div" not in done.stdout


@pytest.mark.stop
def test_stop_is_heard_in_the_synchronous_fallback_too(kernel, server):
    """With autoawait off the comparison runs on a worker thread; both Stops still reach it."""
    server.add_model("a", Plan(tokens=TOKENS, delay=0.02))
    server.add_model("b", Plan(tokens=TOKENS, delay=0.02))
    assert kernel.run("%autoawait False").status == "ok"
    try:
        execution = kernel.start("%%chat -m a -m b\nCount.")
        container, (first, _) = _streaming(kernel, execution, 2)
        kernel.stop_widget(first)
        requests = _chat_requests(server)
        server.wait_for_disconnect(requests["a"].id, timeout=5)
        assert not requests["b"].disconnected
        kernel.stop_widget(container)
        server.wait_for_disconnect(requests["b"].id, timeout=5)
        kernel.pump(execution, timeout=15)
        assert execution.status == "ok", execution.error
        assert _value(kernel, "[r.status for r in _chat]") == ["stopped", "stopped"]
    finally:
        kernel.run("%autoawait True")


def test_the_model_option_repeats_and_each_empty_one_is_the_configured_model():
    configured = ChatMagics().trait_values() | {"model": "configured"}
    parsed = ChatMagics.chat.parser.parse_args(["-m", "a", "-m", "", "--model", "b"])
    assert options.cell_models(parsed, configured) == ["a", "configured", "b"]
    assert options.chat_keywords(parsed, configured)["model"] == "a"
    bare = ChatMagics.chat.parser.parse_args([])
    assert options.cell_models(bare, configured) == ["configured"]


def test_compare_takes_chats_keywords_but_model():
    import asyncio
    import inspect

    from streamchat_widget import api

    parameters = list(inspect.signature(api.compare).parameters)
    keywords = [k for k in options.KEYWORDS if k != "model"]
    assert parameters == ["prompt", "models", "keep", *keywords, "cell_id", "on_reply"]
    for wrong, error in (
        ({"models": ["a"], "model": "b"}, "compare\\(\\) takes models=\\[...\\], not model="),
        ({"models": ["a"], "top_k": 1}, "unexpected keyword argument 'top_k'"),
        ({"models": ["a", "b"], "keep": 2}, "keep=2 is not a column: there are 2 \\(0 to 1\\)"),
    ):
        with pytest.raises((TypeError, ValueError), match=error):
            asyncio.run(api.compare("q", **wrong))


def test_attached_values_go_to_every_model_and_into_the_recorded_exchange(kernel, server):
    server.add_model("a", Plan(tokens=["seen"]))
    kernel.run("note = 'the word is plum'")
    assert kernel.run("%%chat -m a -m echo --with note\nWhat word?").status == "ok"
    sent = [r.body["messages"][-1]["content"] for r in _chat_requests(server).values()]
    assert sent[0] == sent[1] and isinstance(sent[0], list)
    assert any("the word is plum" in part.get("text", "") for part in sent[0])
    _, columns = _comparison(kernel)
    assert all(w.state["attachments"] for w in columns)
    server.reset()
    assert kernel.run("%%chat -m echo\nAgain?").status == "ok"
    assert _chat_requests(server)["echo"].body["messages"][0]["content"] == sent[0]
