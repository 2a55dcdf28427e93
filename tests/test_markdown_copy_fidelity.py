"""The saved Markdown copy looks like the answer: marked's rendering of the copy has the
same structure and text as markdown-it's rendering of the original (raw HTML off).

Attributes (classes, link targets, alignment styles) are ignored; whitespace between
elements is ignored; text inside `<pre>` must match exactly. `test_markdown_copy_parity.py`
holds the copy to the shared fixture of the live view and the saved HTML as well.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from streamchat_widget.markdown_copy import inert_markdown
from streamchat_widget.markdown_syntax import answer_parser
from tests.renderers import marked

# marked here knows no math: the answer's formulas are compared as the source it shows.
WITHOUT_MATH = answer_parser().disable(["math_inline", "math_block"])

TYPICAL_ANSWERS = {
    "prose": "# Title\n\nSome *emphasis*, **strong**, ***both***, ~~gone~~ and **bold _em_**.\n\n"
    "## Second\n\nA paragraph\nwith a soft break.\n\nSetext\n======",
    "lists": "3. three\n4. four\n   - nested *a*\n   - nested b\n\n     ```python\n"
    "     if a < b:\n         pass\n     ```\n5. five\n\n- x\n- y\n\n* other list",
    "loose list": "1. first\n\n   second paragraph\n\n2. next",
    "tasks": "- [x] done\n- [ ] todo\n- [X] also done\n- not a task",
    "quote": "> quoted *text*\n> - item\n>\n> ```sh\n> echo '<b>'\n> ```\n\nafter",
    "rule": "above\n\n***\n\nbelow\n\n---\n\nend",
    "rule in item": "- ***\n- b\n\n* ---\n* c",
    "table": "| name | code | note |\n|:-----|:----:|-----:|\n| `a\\|b` | `x` | a \\| pipe |\n"
    "| **b** | `__init__` | [link](https://example.org) |",
    "code spans": "Use `__init__`, `C:\\temp\\*`, `` `\\\\` ``, ``` ``x`` ``` and `a|b` and `<b>`.",
    "fences": "```python\nprint('<b>')\n```\n\n~~~\nplain ~~~ text\n```\n~~~\n\n"
    "````md\n```\ninner\n```\n````",
    "indented code": "Text:\n\n    <b>x</b> & y\n    second line\n\nafter",
    "hard breaks": "line one  \nline two\\\nline three",
    "links": "[docs](https://example.org/a_(b)?q=1&r=2), [mail](mailto:a@b.example), "
    "[bad](javascript:alert(1)), [ref][r] and <https://auto.example/x>.\n\n"
    "[r]: https://ref.example/ 'Title'",
    "bare urls": "See https://example.com/a_b_c and www.example.org or a@b.example.",
    "entities": "&copy; &amp; &#106; &lt;script&gt; &nbsp;x &colon;",
    "raw html": "<b>bold?</b> <img src=x onerror=alert(1)>\n\n<div>\nblock\n</div>",
    "data image": "![dot](data:image/png;base64,iVBORw0KGgo=)",
    "escapes": "\\# not a heading, 1\\. not a list, \\*not em\\*, \\[not link], \\\\ slash",
    "numbers": "In\n2019. that was a year, and\n1\\) not a list either.",
    "python answer": "Here's how:\n\n```python\ndef f(x):\n    return x * 2\n```\n\n"
    "Then call `f(2)` to get **4**.",
    "math": "Energy is $E = mc^2$ and $$\\int_0^1 x\\,dx$$.",
    "unicode": "Zeilen\u2028trenner, form\x0cfeed, next\x85line, Ünïcödé ✓",
    "html entities in code": "`&amp;` and\n\n```\n&lt;\n```",
}


_VOID = frozenset({"br", "hr", "img"})
_SAME = {"del": "s"}


class _Shape(HTMLParser):
    """Tag tree and text of rendered HTML, as events."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._pre += tag == "pre"
        self.events.append(("start", _SAME.get(tag, tag)))

    def handle_endtag(self, tag: str) -> None:
        self._pre -= tag == "pre"
        if tag not in _VOID:
            self.events.append(("end", _SAME.get(tag, tag)))

    def handle_data(self, data: str) -> None:
        text = data if self._pre else " ".join(data.split())
        if not text:
            return
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + text)
        else:
            self.events.append(("text", text))


def shape(html: str) -> list[tuple[str, ...]]:
    parser = _Shape()
    parser.feed(html)
    parser.close()
    return [
        ("text", event[1].strip()) if event[0] == "text" else event
        for event in parser.events
        if event[0] != "text" or event[1].strip()
    ]


@pytest.mark.parametrize("answer", TYPICAL_ANSWERS.values(), ids=TYPICAL_ANSWERS.keys())
def test_the_copy_renders_like_the_answer(answer):
    original = shape(WITHOUT_MATH.render(answer))
    copy = shape(marked().render(inert_markdown(answer)))
    assert copy == original
