"""Math in a real JupyterLab: KaTeX typesets formulas while the answer streams, and the saved
copy that replaces the widget is typeset by JupyterLab's MathJax; prices, shell variables and
code stay text in both. The KaTeX fonts come from the bundle (the test machine has no network).
"""

from __future__ import annotations

import pytest

from tests.sse_server import Plan

pytestmark = pytest.mark.browser

HEAD = [
    "The mean $\\bar{x}",
    " = \\frac{1}{n}\\sum_i x_i$ of the sample",
    " costs $5 and $10; run `echo $HOME` or $HOME.\n\n",
    "$$\n\\sigma^2 = \\frac{1}{n}",
    "\\sum_{i=1}^n (x_i - \\bar{x})^2\n$$\n\n",
    "and \\(\\hat\\beta\\) too, ",
]
PRICES = "costs $5 and $10; run echo $HOME or $HOME."
ANSWER = ".streamchat .streamchat-answer"


def test_formulas_are_typeset_while_streaming_and_in_the_saved_copy(lab, browser, server):
    server.add_model("math", Plan(tokens=HEAD + [f"word{i} " for i in range(150)], delay=0.02))
    name = lab.notebook("math.ipynb", ["%load_ext streamchat_widget", "%%chat -m math\nstats"])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        live = page.locator('.streamchat[data-status="streaming"] .streamchat-answer')
        live.locator(".katex").nth(2).wait_for(timeout=30_000)
        assert page.locator('.streamchat[data-status="streaming"]').count() == 1
        assert live.locator(".streamchat-math").count() == 3
        assert live.locator(".streamchat-math-display .katex-display").count() == 1
        assert live.locator(".streamchat-math-error").count() == 0
        assert PRICES in " ".join(live.inner_text().split())
        assert live.locator("code").first.inner_text() == "echo $HOME"
        # KaTeX's own font, from the bundled CSS (data: URLs), has loaded and is in use.
        loaded = page.evaluate(
            """async () => {
                await document.fonts.ready;
                return [...document.fonts].filter(f => f.family.includes('KaTeX_Main'))
                    .map(f => f.status);
            }"""
        )
        assert "loaded" in loaded
        family = live.locator(".katex").first.evaluate("e => getComputedStyle(e).fontFamily")
        assert "KaTeX_Main" in family

        saved = page.locator(".jp-RenderedHTMLCommon .streamchat[data-status='done']")
        saved.wait_for(timeout=30_000)
        typeset = saved.locator(".streamchat-answer mjx-container")
        typeset.nth(2).wait_for(timeout=30_000)
        assert typeset.count() == 3
        answer = saved.locator(".streamchat-answer")
        assert answer.locator(".streamchat-math mjx-container").count() == 3
        assert PRICES in " ".join(answer.inner_text().split())
        assert page.locator(".katex").count() == 0, "the widget is gone"
    finally:
        page.close()
