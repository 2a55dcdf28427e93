"""A comparison in a real JupyterLab and Chromium: the columns stream side by side, and
the one button named "Stop" ends them all; each column's own Stop has a name of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sse_server import Plan

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

TOKENS = [f"tok{i} " for i in range(600)]
LENGTHS = (
    "() => [...document.querySelectorAll('.streamchat-compare-column .streamchat-answer')]"
    ".map(e => e.textContent.length)"
)


@pytest.mark.stop
def test_columns_stream_side_by_side_and_stop_ends_them_all(lab, browser, server):
    server.add_model("left", Plan(tokens=TOKENS, delay=0.02))
    server.add_model("right", Plan(tokens=TOKENS, delay=0.03))
    name = lab.notebook(
        "compare.ipynb", ["%load_ext streamchat_widget", "%%chat -m left -m right\nCount."]
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_function(f"() => {{ const n = ({LENGTHS})(); return n.length === 2 "
                               "&& n.every(x => x > 20); }", timeout=30_000)  # fmt: skip
        columns = page.locator(".streamchat-compare-column .streamchat")
        assert [columns.nth(i).get_attribute("data-status") for i in range(2)] == [
            "streaming",
            "streaming",
        ]
        # Both grow: each column streams on its own, at the same time.
        first = page.evaluate(LENGTHS)
        page.wait_for_function(
            f"n => {{ const m = ({LENGTHS})(); return m[0] > n[0] && m[1] > n[1]; }}", arg=first
        )
        # Side by side, the same width, in the order given.
        boxes = [columns.nth(i).bounding_box() for i in range(2)]
        assert boxes[0]["x"] < boxes[1]["x"] and boxes[0]["y"] == boxes[1]["y"]
        assert abs(boxes[0]["width"] - boxes[1]["width"]) < 2
        headers = page.locator(".streamchat-compare-column .streamchat-model").all_inner_texts()
        assert headers == ["1 · left", "2 · right"]
        assert page.get_by_role("button", name="Stop right", exact=True).is_visible()

        # A column's own Stop ends that column only; the other streams on.
        requests = {r.body["model"]: r for r in server.requests if r.body}
        page.get_by_role("button", name="Stop left", exact=True).click()
        server.wait_for_disconnect(requests["left"].id, timeout=5)
        page.wait_for_function(
            "() => document.querySelector('.streamchat-compare-column .streamchat')"
            ".dataset.status === 'stopped'"
        )
        still = page.evaluate(LENGTHS)
        page.wait_for_function(f"n => ({LENGTHS})()[1] > n[1]", arg=still)
        assert columns.nth(1).get_attribute("data-status") == "streaming"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare-one-stopped.png"), full_page=True)

        page.get_by_role("button", name="Stop", exact=True).click()
        assert server.wait_for_disconnect(requests["right"].id, timeout=5).chunks_sent < len(TOKENS)
        # The static copy (no Stop for all, no live parts) replaces the live view.
        page.wait_for_function(
            "() => !document.querySelector('.streamchat-compare-top') && "
            "[...document.querySelectorAll('.streamchat-compare-column .streamchat')]"
            ".map(e => e.dataset.status).join() === 'stopped,stopped'",
            timeout=10_000,
        )
    finally:
        page.close()


def test_columns_stack_when_the_output_is_narrow(lab, browser, server):
    server.add_model("one", Plan(tokens=TOKENS[:150], delay=0.02))
    name = lab.notebook(
        "narrow.ipynb", ["%load_ext streamchat_widget", "%%chat -m one -m echo\nStacked."]
    )
    page = browser.new_page(viewport={"width": 560, "height": 900})
    columns = page.locator(".streamchat-compare-column .streamchat")

    def stacked() -> bool:
        first, second = (columns.nth(i).bounding_box() for i in range(2))
        return first["y"] + first["height"] <= second["y"] and first["x"] == second["x"]

    try:
        lab.open_and_run_all(page, name)
        page.wait_for_function(f"() => ({LENGTHS})()[0] > 20", timeout=30_000)
        assert columns.first.get_attribute("data-status") == "streaming"
        assert stacked(), "the live columns stack"
        page.wait_for_function(
            "() => !document.querySelector('.streamchat-compare-top') && "
            "[...document.querySelectorAll('.streamchat-compare-column .streamchat')]"
            ".map(e => e.dataset.status).join() === 'done,done'",
            timeout=30_000,
        )
        assert stacked(), "the static copy's columns stack"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare-narrow.png"), full_page=True)
    finally:
        page.close()


def test_the_committed_notebook_reopens_with_its_columns_side_by_side(lab, browser):
    """Untrusted, as a notebook from elsewhere is: JupyterLab sanitizes the saved HTML."""
    import shutil

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "compare-models.ipynb"
    shutil.copy(notebook, lab.root / "reopen-compare.ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(lab.page_url("reopen-compare.ipynb"))
        selector = ".jp-Notebook .streamchat-compare-column .streamchat"
        # JupyterLab renders a notebook's cells a few at a time: wait for all three outputs.
        page.wait_for_function(
            f"() => document.querySelectorAll({selector!r}).length === 6", timeout=60_000
        )
        answers = page.locator(selector)
        assert "Error displaying widget" not in page.content()
        first, second = answers.nth(0).bounding_box(), answers.nth(1).bounding_box()
        assert first["x"] < second["x"] and first["y"] == second["y"]
        assert abs(first["width"] - second["width"]) < 2
    finally:
        page.close()
