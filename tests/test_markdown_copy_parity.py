"""The saved `text/markdown` copy says what the live view and the saved HTML say.

Every case of the shared fixture `tests/markdown_cases.json` is written as the Markdown
copy, rendered by marked (as JupyterLab renders it) and compared on structure with the
expected tree. Where the Markdown copy differs by design, the expectation is translated:
an image that is not fetched is a link to its URL (its text the alt, else the URL) and,
inside a link or with no http(s) URL, its alt text; a fence with no language says `text`;
a formula is its `$…$` or `$$…$$` source, as marked (no math) shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from streamchat_widget.markdown_copy import inert_markdown
from tests.markdown_structure import Node, merge_text, structure
from tests.renderers import marked

CASES = json.loads((Path(__file__).parent / "markdown_cases.json").read_text(encoding="utf-8"))[
    "cases"
]


def _in_markdown_copy(nodes: list[Node], in_link: bool = False, block: bool = True) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "math":
            # marked, with no math, shows the formula's source: a `$$` block as a paragraph.
            dollars = "$$" if node[1] else "$"
            source = dollars + node[2] + dollars
            out.append(["p", {}, source] if block and node[1] else source)
        elif node[0] == "remote-image":
            alt, src = node[1]["alt"], node[1]["src"]
            if in_link or urlsplit(src).scheme not in ("http", "https"):
                out.append(alt or src)
            else:
                out.append(["a", {"href": src}, alt or src])
        else:
            inner = _in_markdown_copy(node[2:], in_link or node[0] == "a", node[0] == "blockquote")
            out.append([node[0], node[1], *inner])
    return merge_text(out)


def _plain_fences(nodes: list[Node]) -> list[Node]:
    """`lang: text` is how the copy marks a fence without a language: drop it to compare."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
            continue
        attrs = {k: v for k, v in node[1].items() if not (node[0] == "code" and v == "text")}
        out.append([node[0], attrs, *_plain_fences(node[2:])])
    return out


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_markdown_copy_matches_the_shared_fixture(case: dict) -> None:
    rendered = structure(marked().render(inert_markdown(case["markdown"])))
    assert _plain_fences(rendered) == _in_markdown_copy(case["expected"])
