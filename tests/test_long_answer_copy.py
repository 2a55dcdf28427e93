"""A long answer's saved copy is cheap for the page that shows it, and says the same.

JupyterLab lays out a `text/html` output whole, at once, when it replaces the widget, and
its table of contents renders an entry per heading of every output: for a 20 000-token
answer that froze the page for seconds. The copy is cut into parts the browser may skip
while they are off screen, and the answer's headings stay out of the table of contents
(the live view never was in it). The table of contents also sanitizes the whole copy in one
task, parsing each `style` attribute as CSS: code blocks take their box from one `<style>`
element, and a long answer's Pygments markup stops after its first few kilobytes of code.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from benchmarks.browser_render import answer_tokens
from streamchat_widget.reply import Reply
from streamchat_widget.static_copy import _MARKDOWN, HIGHLIGHT_BUDGET, bundle, to_html
from tests.markdown_structure import structure
from tests.sse_server import Plan

LONG = "".join(answer_tokens(20_000))
TYPICAL = "".join(answer_tokens(1_500))


class _Elements(HTMLParser):
    """Start tags of one HTML string, with their attributes, and the text of each code block."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.code: list[tuple[str, int]] = []  # each <pre>'s text and how many <span>s it holds
        self._in_pre = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "pre":
            self._in_pre = True
            self.code.append(("", 0))
        elif tag == "span" and self._in_pre:
            self.code[-1] = (self.code[-1][0], self.code[-1][1] + 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.code[-1] = (self.code[-1][0] + data, self.code[-1][1])


def _copy(text: str) -> str:
    return to_html(Reply(text=text, status="done", model="m", messages=[]))


def _parts(html: str) -> list[dict[str, str]]:
    return [a for t, a in _Elements(html).tags if "streamchat-part" in a.get("class", "").split()]


def test_a_long_answer_is_saved_in_parts_the_page_may_skip_off_screen():
    parts = _parts(_copy(LONG))
    assert len(parts) >= 5
    for part in parts:
        style = dict(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in part["style"].split(";") if d)
        )
        assert style["content-visibility"] == "auto"
        assert style["contain-intrinsic-size"].startswith("auto ")


def test_the_parts_say_what_one_piece_says():
    whole = f'<div class="streamchat-answer">{_MARKDOWN.render(LONG)}</div>'
    assert structure(_copy(LONG), within="streamchat-answer") == structure(
        whole, within="streamchat-answer"
    )


def test_a_typical_answer_stays_one_piece():
    assert _parts(_copy(TYPICAL)) == []


def test_the_answers_headings_stay_out_of_the_table_of_contents():
    headings = [a for t, a in _Elements(_copy(TYPICAL)).tags if t in ("h1", "h2", "h3")]
    assert headings
    assert all("jp-toc-ignore" in a.get("class", "").split() for a in headings)


def test_code_blocks_take_their_box_from_the_copys_one_style_element():
    for text in (TYPICAL, LONG):
        tags = _Elements(_copy(text)).tags
        pres = [a for t, a in tags if t == "pre"]
        assert pres
        assert all("highlight" in a["class"].split() and "style" not in a for a in pres)
        assert [t for t, _ in tags].count("style") == 1


def test_a_long_answer_highlights_its_first_kilobytes_of_code_only():
    code = _Elements(_copy(LONG)).code
    highlighted = [text for text, spans in code if spans]
    assert highlighted == [text for text, _ in code[: len(highlighted)]], "the first blocks"
    assert 0 < sum(map(len, highlighted)) <= HIGHLIGHT_BUDGET
    assert len(highlighted) < len(code) / 4


def test_a_typical_answer_highlights_all_its_code():
    code = _Elements(_copy(TYPICAL)).code
    assert len(code) > 10
    assert all(spans for _, spans in code)


# In JupyterLab: a trusted copy (made in this session) draws each code block in its box and
# gives every block a Copy button, a few dozen per task; an untrusted one (a notebook from
# elsewhere) has its `<style>` element stripped by the sanitizer, which must not show the CSS.
MEDIUM = answer_tokens(8000)  # 7 KB of code in 200 blocks
BOX = """pre => { const s = getComputedStyle(pre);
  return [s.borderTopWidth, s.backgroundColor, pre.querySelectorAll('span').length]; }"""


@pytest.mark.browser
def test_a_long_copy_in_jupyterlab_keeps_code_boxes_and_copy_buttons(lab, browser, server):
    assert len("".join(MEDIUM)) > 16_000, "long enough to be saved in parts"
    server.add_model("medium-md", Plan(tokens=MEDIUM))
    name = lab.notebook("medium.ipynb", ["%load_ext streamchat_widget", "%%chat -m medium-md\nx"])
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        lab.open_and_run_all(page, name)
        saved = ".jp-RenderedHTMLCommon .streamchat .streamchat-answer"
        page.wait_for_selector(saved, timeout=60_000)
        pres = page.locator(f"{saved} pre")
        count = pres.count()
        assert count > 200
        page.wait_for_function(
            "([saved, count]) => document.querySelectorAll(`${saved} .streamchat-code-copy`)"
            ".length === count",
            arg=[saved, count],
        )
        first, last = pres.first.evaluate(BOX), pres.last.evaluate(BOX)
        for width, background, _ in (first, last):
            assert width == "1px" and background not in ("rgba(0, 0, 0, 0)", "transparent")
        assert first[2] > 0 and last[2] == 0, "highlighted at the top, plain further down"
    finally:
        page.close()


@pytest.mark.browser
def test_an_untrusted_long_copy_shows_no_css_text(lab, browser):
    reply = Reply(text="".join(MEDIUM), status="done", model="m", messages=[])
    data, metadata = bundle(reply, "localhost", {})
    nb = new_notebook(cells=[new_code_cell("%%chat\nx")])
    nb.cells[0].outputs = [new_output("display_data", data=data, metadata=metadata)]
    nbformat.write(nb, Path(lab.root) / "untrusted.ipynb")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(lab.page_url("untrusted.ipynb"))
        answer = page.locator(".jp-Notebook .streamchat .streamchat-answer")
        answer.wait_for(timeout=60_000)
        assert page.locator(".jp-Notebook .streamchat style").count() == 0
        text = answer.text_content() or ""
        assert "Section 199" in text and "pre.highlight" not in text and "border-radius" not in text
        assert answer.locator("pre").count() > 200
    finally:
        page.close()
