"""A long answer's saved copy is cheap for the page that shows it, and says the same.

JupyterLab lays out a `text/html` output whole, at once, when it replaces the widget, and
its table of contents renders an entry per heading of every output: for a 20 000-token
answer that froze the page for seconds. The copy is cut into parts the browser may skip
while they are off screen, and the answer's headings stay out of the table of contents
(the live view never was in it).
"""

from __future__ import annotations

from html.parser import HTMLParser

from benchmarks.browser_render import answer_tokens
from streamchat_widget.reply import Reply
from streamchat_widget.static_copy import _MARKDOWN, to_html
from tests.markdown_structure import structure

LONG = "".join(answer_tokens(20_000))
TYPICAL = "".join(answer_tokens(1_500))


class _Elements(HTMLParser):
    """Start tags of one HTML string, with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


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
