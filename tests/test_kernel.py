"""`%%chat` in a real ipykernel, driven over ZMQ as a notebook front end would."""

from __future__ import annotations

import json
import time

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


def test_kernel_interrupt_stops_the_answer_keeps_it_and_halts(kernel, server):
    server.add_model("slow", Plan(tokens=SLOW_TOKENS, delay=0.02))
    kernel.widgets.clear()
    execution = kernel.start("%%chat -m slow\nCount slowly.")
    widget = _wait_for_text(kernel, execution)

    kernel.manager.interrupt_kernel()
    kernel.pump(execution, timeout=5)
    assert execution.status == "error"
    assert execution.error["ename"] == "ChatInterrupted"
    assert len(execution.error["traceback"]) == 1, "one line, not a traceback wall"
    assert widget.state["status"] == "stopped"
    assert widget.streamed_text.startswith("tok0 ")
    assert widget.streamed_text.strip() in _markdown(execution)
    assert server.wait_for_disconnect(timeout=2).disconnected
    assert kernel.run("print(_chat.status)").stdout == "stopped\n"


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
    execution = kernel.run("%%chat -m no-such-model\nhello")
    assert execution.status == "ok"
    (widget,) = kernel.chat_widgets()
    assert widget.state["status"] == "error"
    assert widget.state["error"]["title"] == "Model or endpoint not found (404)"
    assert "no-such-model" in widget.state["error"]["message"]
    assert "Error" in _markdown(execution)
    assert not any(o["output_type"] == "error" for o in execution.outputs)
    assert server.api_key not in json.dumps(execution.iopub, default=str)
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
