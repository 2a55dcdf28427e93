"""The chips of attached values in real JupyterLab and Chromium: live while the answer
streams, the same line in the static copy that replaces it, and names shown as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sse_server import Plan

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMES = "\N{MULTIPLICATION SIGN}"
SETUP = """\
import pandas as pd
from matplotlib.figure import Figure
from streamchat_widget import chat
df = pd.DataFrame({"city": ["Oslo", "Lima", None], "temp_c": [3.5, None, 21.0]})
fig = Figure(figsize=(4, 3), dpi=50)
fig.add_subplot().plot([1, 3, 2])"""


def _chips(page, selector: str) -> list[str]:
    return page.locator(f"{selector} .streamchat-attachments .streamchat-chip").all_inner_texts()


def test_chips_show_live_and_stay_in_the_static_copy(lab, browser, server):
    server.add_model("slowdata", Plan(tokens=[f"w{i} " for i in range(400)], delay=0.02))
    hostile = "<img src=x onerror=window.__xss=1>"
    cells = [
        "%load_ext streamchat_widget",
        SETUP,
        "%%chat -m slowdata -w df,fig\nWhat is in it?",
        f"await chat('And this?', model='slowdata', with_={{{hostile!r}: 'x' * 9000}})",
    ]
    name = lab.notebook("attached.ipynb", cells)
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        live = '.streamchat[data-status="streaming"]'
        page.wait_for_selector(f"{live} .streamchat-chip", timeout=60_000)
        chips = _chips(page, live)
        assert len(chips) == 2
        assert chips[0].startswith(f"df: pandas DataFrame · 3 rows {TIMES} 2 columns · ~")
        assert chips[1].startswith(f"fig: matplotlib Figure · 200 {TIMES} 150 px · ")
        assert chips[1].endswith(" KB")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-attachments.png"), full_page=True)
        page.get_by_role("button", name="Stop").click()

        saved = ".streamchat.streamchat-status-stopped"  # the static copy, not the widget
        page.wait_for_selector(f"{saved} .streamchat-chip")
        assert _chips(page, saved) == chips
        page.wait_for_selector(f"{live} .streamchat-chip", timeout=60_000)
        (cut,) = _chips(page, live)
        assert cut.startswith(f"{hostile}: text · 9,000 characters · ~2,000 tokens · cut to 8,000")
        assert page.locator(f"{live} .streamchat-chip-cut").count() == 1
        page.get_by_role("button", name="Stop").click()
        page.wait_for_function(
            f"() => document.querySelectorAll('{saved}').length === 2", timeout=10_000
        )
        assert _chips(page, saved)[-1] == cut
        assert page.locator(".streamchat-attachments img").count() == 0
        assert page.evaluate("() => window.__xss") is None
    finally:
        page.close()
