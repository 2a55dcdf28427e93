"""Stop is heard on every kernel people run, in the async cell and in the synchronous fallback.

CI runs this module twice: on the default kernel, and with `JUPYTER_PATH`
pointing the `python3` kernelspec at an environment with ipykernel 6.29.5
(`STREAMCHAT_EXPECT_IPYKERNEL` names the version the kernels must report).
"""

from __future__ import annotations

import os
import time

import pytest

from tests.kernel import Kernel
from tests.lab import chromium as launch_chromium
from tests.lab import jupyter_lab
from tests.sse_server import Plan

pytestmark = pytest.mark.stop

TOKENS = [f"tok{i} " for i in range(500)]  # 10 s at 50 tokens/s: a Stop that is not heard shows
STOP_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def env(sse_server):
    return {"OPENAI_BASE_URL": sse_server.base_url, "OPENAI_API_KEY": sse_server.api_key}


def _streaming(kernel: Kernel, execution):
    def enough(_execution) -> bool:
        widgets = kernel.chat_widgets()
        return bool(widgets) and len(widgets[-1].streamed_text) >= 30

    kernel.pump(execution, until=enough, timeout=15)
    return kernel.chat_widgets()[-1]


def _click_stop_and_check(kernel: Kernel, execution, server) -> float:
    """Click Stop on the streaming answer; the upstream connection closes at once."""
    widget = _streaming(kernel, execution)
    clicked = time.monotonic()
    kernel.stop_widget(widget)
    record = server.wait_for_disconnect(timeout=5)
    latency = record.disconnected_at - clicked
    kernel.pump(execution, timeout=10)
    assert latency < STOP_LIMIT_S, f"the server saw the disconnect {latency:.2f} s after the click"
    assert record.chunks_sent < len(TOKENS)
    assert execution.status == "ok", execution.error
    assert widget.state["status"] == "stopped"
    partial = widget.streamed_text
    assert kernel.run("print(repr(_chat.status), repr(_chat.text))").stdout == (
        f"'stopped' {partial!r}\n"
    )
    return latency


def test_the_kernel_is_the_one_ci_asked_for(env):
    with Kernel(env) as k:
        reported = k.run("import ipykernel; print(ipykernel.__version__)").stdout.strip()
    expected = os.environ.get("STREAMCHAT_EXPECT_IPYKERNEL")
    if expected:
        assert reported == expected
    assert reported


@pytest.mark.parametrize(
    "cell",
    [
        "%%chat -m slow\nCount slowly.",
        "get_ipython().run_cell_magic('chat', '-m slow', 'Count slowly.')",
    ],
    ids=["async-cell", "run_cell_magic"],
)
def test_stop_is_heard_while_an_async_kernel_streams(env, server, cell):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.02))
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget").status == "ok"
        _click_stop_and_check(k, k.start(cell), server)
        assert k.run("print('next cell runs')").stdout == "next cell runs\n"


def test_stop_is_heard_in_the_synchronous_fallback(env, server):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.02))
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget\n%autoawait False").status == "ok"
        _click_stop_and_check(k, k.start("%%chat -m slow\nCount slowly."), server)


@pytest.mark.parametrize("autoawait", [True, False], ids=["async-cell", "synchronous"])
def test_a_late_view_is_caught_up_while_the_answer_streams(env, server, autoawait):
    """A view made mid-answer (a reloaded page) asks for what it missed; the kernel answers
    at once, not after the cell, on kernels that queue widget messages too."""
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.02))
    with Kernel(env) as k:
        assert k.run(f"%load_ext streamchat_widget\n%autoawait {autoawait}").status == "ok"
        execution = k.start("%%chat -m slow\nCount slowly.")
        widget = _streaming(k, execution)
        k.send_custom(widget.comm_id, {"type": "catch_up", "after": 0})

        def caught_up(_execution) -> bool:
            return any("first" in d for d in widget.deltas)

        k.pump(execution, until=caught_up, timeout=5)
        assert execution.status is None, "the catch-up came only after the cell"
        caught = next(d for d in widget.deltas if "first" in d)
        assert caught["first"] == 1 and caught["text"].startswith("tok0 tok1 ")
        k.stop_widget(widget)
        k.pump(execution, timeout=10)
        assert widget.state["status"] == "stopped"


def test_other_messages_keep_their_order_and_run_after_the_cell(env, server):
    """While an answer streams, cells sent meanwhile run after it, in order."""
    server.add_model("slow", Plan(tokens=TOKENS[:100], delay=0.02))
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget\nseen = []").status == "ok"
        chat = k.start("%%chat -m slow\nCount slowly.")
        _streaming(k, chat)
        later = [k.start(f"seen.append({i})") for i in range(3)]
        k.pump(chat, timeout=15)
        for execution in later:
            k.pump(execution, timeout=10)
            assert execution.status == "ok"
        assert k.run("print(seen)").stdout == "[0, 1, 2]\n"
        assert k.chat_widgets()[-1].state["status"] == "done"


@pytest.mark.browser
def test_stop_in_jupyterlab_closes_the_connection(server, env, tmp_path):
    server.add_model("slow", Plan(tokens=TOKENS, delay=0.02))
    with jupyter_lab(tmp_path, env) as lab, launch_chromium() as browser:
        name = lab.notebook(
            "stop-kernel.ipynb",
            ["%load_ext streamchat_widget", "%%chat -m slow\nCount.", "after = True"],
        )
        page = browser.new_page()
        try:
            lab.open_and_run_all(page, name)
            page.wait_for_function(
                "() => (document.querySelector('.streamchat-answer')?.textContent || '')"
                ".length > 20",
                timeout=30_000,
            )
            clicked = time.monotonic()
            page.get_by_role("button", name="Stop").click()
            record = server.wait_for_disconnect(timeout=5)
            assert record.disconnected_at - clicked < STOP_LIMIT_S
            page.wait_for_selector('.streamchat[data-status="stopped"]', timeout=5_000)
            assert record.chunks_sent < len(TOKENS)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-InputPrompt')]"
                ".every(p => /\\[\\d+\\]/.test(p.textContent))",
                timeout=15_000,
            )
        finally:
            page.close()
