"""A front-end model made after the first deltas (marimo, a reloaded page) gets what it missed.

The kernel is real; the first test plays a model that came late: it asks,
mid-answer, for everything after delta 0, as the browser does at the first gap
it sees. The second reloads JupyterLab mid-answer in Chromium.
"""

from __future__ import annotations

import pytest

from tests.sse_server import Plan

LIVE = ".streamchat[data-status='streaming']"
TOKENS = [f"tok{i} " for i in range(300)]


def _catch_up_of(msg: dict) -> dict | None:
    data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
    content = data.get("content") if data.get("method") == "custom" else None
    return content if isinstance(content, dict) and "first" in content else None


def test_a_late_model_gets_every_delta_it_missed_in_one(kernel, server):
    server.add_model("late", Plan(tokens=TOKENS, delay=0.01))
    execution = kernel.start("%%chat -m late\nCount.")

    def streaming(_execution) -> bool:
        widgets = kernel.chat_widgets()
        return bool(widgets) and len(widgets[-1].deltas) >= 3

    kernel.pump(execution, until=streaming, timeout=15)
    widget = kernel.chat_widgets()[-1]
    request = kernel.send_custom(widget.comm_id, {"type": "catch_up", "after": 0})

    def replies() -> list[dict]:
        return [m for m in kernel.wire if _catch_up_of(m) is not None]

    kernel.pump(execution, until=lambda _e: bool(replies()), timeout=10)
    (reply,) = replies()
    kernel.pump(execution, timeout=30)
    caught = _catch_up_of(reply)
    numbered = [d for d in widget.deltas if "first" not in d]
    covered = [d for d in numbered if d["seq"] <= caught["seq"]]
    assert caught["seq"] >= 3
    assert [d["seq"] for d in covered] == list(range(1, caught["seq"] + 1))
    assert caught["text"] == "".join(d["text"] for d in covered)
    assert caught["text"].startswith("tok0 tok1 ")
    # A reply to the front end keeps its parent (the request), like every reply of ours.
    assert reply["parent_header"].get("msg_id") == request["header"]["msg_id"]
    assert execution.status == "ok", execution.error


@pytest.mark.browser
def test_a_page_reloaded_mid_answer_shows_the_answer_from_its_start(lab, browser, server):
    """JupyterLab makes a new model when a saved notebook is reloaded while its answer streams."""
    server.add_model("late", Plan(tokens=["# Head\n\n", *TOKENS], delay=0.03))
    name = lab.notebook("reload.ipynb", ["%load_ext streamchat_widget", "%%chat -m late\nCount."])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        page.locator(f"{LIVE} h1").wait_for(timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=10_000
        )
        page.reload()
        live = page.locator(LIVE)
        live.locator("h1", has_text="Head").wait_for(timeout=30_000)
        assert live.locator(".streamchat-answer").inner_text().split()[1:3] == ["tok0", "tok1"]
    finally:
        page.close()
