"""The `text/markdown` copy in real JupyterLab: rendered trusted (marked, math typesetting,
no sanitizer), hostile answers run nothing.

JupyterLab shows `text/html` first when a bundle has it, so each copy is displayed alone, as
a consumer that prefers Markdown would see it. JupyterLab also lifts `$…$` math out of the
Markdown before marked runs, which can move code-span boundaries: the math cases aim there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
MATH_CASES = [
    "`a$b` and `c$<img src=x onerror=\"window.__xss='math1'\">`",
    "\\`a$`` x \\`$<img src=x onerror=\"window.__xss='math2'\">`",
    "- ```\n  a $\n  ```\n- `b $ <img src=x onerror=\"window.__xss='math3'\">`\n- ```\n  c\n  ```",
    "> `$` x\n> ```\n> $ <img src=x onerror=\"window.__xss='math4'\">\n> ```",
    "$$`$$ <img src=x onerror=\"window.__xss='math5'\"> `$`",
    "\\\\(`x\\\\)` <img src=x onerror=\"window.__xss='math6'\"> `\\\\(`",
    # Formulas: the copy writes them `$…$`/`$$…$$`, which JupyterLab typesets.
    "$<img src=x onerror=\"window.__xss='math7'\">$ and $\\bar{x}$",
    "\\[[x](javascript:window.__xss='math8')\\] \\(<svg onload=\"window.__xss='math9'\">\\)",
    "$$\n<img src=x onerror=\"window.__xss='math10'\">\n$$",
]
TEXTS = [
    *(case["payload"] for case in json.loads((HERE / "xss_corpus.json").read_text())),
    *json.loads((HERE / "markdown_copy_corpus.json").read_text(encoding="utf-8")),
    *MATH_CASES,
]
# JupyterLab folds a cell's outputs past 50: a cell per 20 answers keeps all of them shown.
PER_CELL = 20
CELL = """\
import json
from streamchat_widget.answer import Reply
from streamchat_widget.static_copy import to_markdown
for text in json.loads({texts!r}):
    copy = to_markdown(Reply(text=text, status="done", model="m", messages=[]))
    display({{"text/markdown": copy}}, raw=True)
"""


def test_hostile_markdown_copies_run_nothing_in_jupyterlab(lab, browser):
    cells = [
        CELL.format(texts=json.dumps(TEXTS[start : start + PER_CELL]))
        for start in range(0, len(TEXTS), PER_CELL)
    ]
    # The control: raw Markdown from the kernel does run here, so the checks below can fail.
    control = """display({"text/markdown": '<img src=x onerror="window.__control=1">'}, raw=True)"""
    name = lab.notebook("markdown-copies.ipynb", [*cells, control, "print('all shown')"])
    # Tall enough that JupyterLab's windowed notebook keeps every cell in the page.
    page = browser.new_page(viewport={"width": 1200, "height": 40_000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        lab.open_and_run_all(page, name)
        page.locator(".jp-OutputArea-output", has_text="all shown").wait_for(timeout=60_000)
        rendered = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
        assert rendered.count() == len(TEXTS) + 1
        # Every image has loaded or failed (an onerror handler would have run by now).
        page.wait_for_function("() => [...document.images].every(image => image.complete)")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r)))")
        assert page.evaluate("() => window.__control") == 1
        assert page.evaluate("() => window.__xss") is None
        assert dialogs == []
        outputs = ".jp-OutputArea-output.jp-RenderedMarkdown"
        assert page.locator(f"{outputs} script, {outputs} iframe, {outputs} svg").count() == 0
        remote = page.eval_on_selector_all(
            f'{outputs} img:not([onerror*="__control"])',
            "els => els.map(e => e.src).filter(s => !s.startsWith('data:'))",
        )
        assert remote == []
    finally:
        page.close()
