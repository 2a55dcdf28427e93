"""Formulas in the saved copies: the HTML hands them, and only them, to MathJax (JupyterLab,
nbconvert); the Markdown copy writes them `$…$`/`$$…$$` (GitHub, nbviewer, JupyterLab) with
the same TeX, and leaves other dollars escaped."""

from __future__ import annotations

import re

import pytest

from streamchat_widget.answer import Reply
from streamchat_widget.markdown_copy import inert_markdown
from streamchat_widget.markdown_syntax import answer_parser
from streamchat_widget.static_copy import to_html
from tests.markdown_structure import _Tree

PARSER = answer_parser()
FORMULAS = [
    "$\\bar{x} = \\frac{1}{n}\\sum_i x_i$",
    "$$\n\\sigma^2 = \\frac{1}{n}\\sum_{i=1}^n (x_i - \\bar{x})^2\n$$",
    "so \\(a < b\\) and \\[\\int_0^1 f(x)\\,dx\\]",
    "$$\n\\begin{aligned}\na &= b \\\\ % first\n  &= c\n\\end{aligned}\n$$",
    "| p | q |\n|---|---|\n| $\\lvert x\\rvert$ | $[a](b)$ |",
    "- item $x_1^2$\n\n> quoted $$e^{i\\pi} + 1 = 0$$",
    "$\\text{cost} \\ge 5\\$$ then",
    "on $[0, 1)$ and $(a, b]$, $\\sqrt[3]{x}$",
]


def _formulas(markdown: str) -> list[tuple[str, bool]]:
    """Each formula's TeX without whitespace or comments (TeX ignores both in math)."""
    found = []
    for token in PARSER.parse(markdown):
        for child in [token, *(token.children or [])]:
            if child.type in ("math_inline", "math_block"):
                tex = re.sub(r"(?<!\\)%[^\n]*", "", child.content)
                display = child.type == "math_block" or child.info == "display"
                tex = "".join(tex.split()).replace("\\vert", "|")
                found.append((tex.replace("\\lbrack", "[").replace("\\rbrack", "]"), display))
    return found


@pytest.mark.parametrize("answer", FORMULAS)
def test_the_markdown_copy_keeps_every_formula(answer: str) -> None:
    assert _formulas(inert_markdown(answer)) == _formulas(answer) != []


def test_bracket_formulas_are_written_with_dollars_that_github_typesets() -> None:
    assert inert_markdown("so \\(a^2\\) and \\[b\\]") == "so $a^2$ and $$b$$"
    assert inert_markdown("$$\nx\n$$") == "$$x$$"


def test_a_bracket_without_its_pair_is_written_as_a_tex_command() -> None:
    """`[0, 1)` could pair with a `]` outside the formula in a renderer without math."""
    copy = inert_markdown("on $[0, 1)$ and $(a, b]$, $[a, b)$ and $\\sqrt[3]{x}$")
    assert "$\\lbrack0, 1)$" in copy and "$(a, b\\rbrack$" in copy
    assert "$\\lbrack a, b)$" in copy and "$\\sqrt[3]{x}$" in copy


def test_dollars_that_are_not_math_stay_escaped_in_the_markdown_copy() -> None:
    copy = inert_markdown("It costs $5 and $10; run `echo $HOME` or $HOME.")
    assert copy == "It costs \\$5 and \\$10; run `echo $HOME` or \\$HOME."


def _elements(node: list) -> list[list]:
    found = []
    for child in node[2:]:
        if isinstance(child, list):
            found.append(child)
            found.extend(_elements(child))
    return found


def test_the_saved_html_hands_only_formulas_to_mathjax() -> None:
    text = "The mean $\\bar{x}$ costs $5 and $10.\n\n$$\na < b\n$$\n\nand \\[c\\] and `$HOME`"
    tree = _Tree()
    tree.feed(to_html(Reply(text=text, status="done", model="m", messages=[])))
    elements = _elements(tree.root)
    classes = [element[1].get("class", "").split() for element in elements]
    ignored = [e for e, c in zip(elements, classes, strict=True) if {"mathjax_ignore"} <= set(c)]
    assert len(ignored) == 1 and "tex2jax_ignore" in ignored[0][1]["class"]
    processed = [
        (e[0], "".join(x for x in e[2:] if isinstance(x, str)))
        for e, c in zip(elements, classes, strict=True)
        if {"mathjax_process", "tex2jax_process"} <= set(c)
    ]
    assert processed == [("span", "\\(\\bar{x}\\)"), ("div", "\\[a < b\\]"), ("span", "\\[c\\]")]
    # The prices are text of the ignored answer, in no element MathJax processes.
    assert "costs $5 and $10." in _text_outside_formulas(ignored[0])


def _text_outside_formulas(node: list) -> str:
    if "mathjax_process" in node[1].get("class", "").split():
        return ""
    return "".join(x if isinstance(x, str) else _text_outside_formulas(x) for x in node[2:])


def test_the_saved_reasoning_is_not_read_as_math() -> None:
    """The live view shows reasoning as plain text: MathJax must not typeset its dollars."""
    reply = Reply(text="x", reasoning="costs $5 and $10", status="done", model="m", messages=[])
    tree = _Tree()
    tree.feed(to_html(reply))
    holders = [e for e in _elements(tree.root) if "costs $5 and $10" in e[2:]]
    assert holders and "mathjax_ignore" in holders[0][1].get("class", "").split()
