"""Which dollars and brackets are math, in the saved copies as in the live view.

`tests/math_delimiters.json` lists answers and the formulas in them; `js/src/math.test.ts`
holds the live view (marked) to the same file, so prices, shell variables and code stay text
on both sides.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamchat_widget.markdown_syntax import answer_parser

CASES = json.loads((Path(__file__).parent / "math_delimiters.json").read_text(encoding="utf-8"))[
    "cases"
]
PARSER = answer_parser()


def formulas(markdown: str) -> list[list]:
    found = []
    for token in PARSER.parse(markdown):
        for child in [token, *(token.children or [])]:
            if child.type in ("math_inline", "math_block"):
                display = child.type == "math_block" or child.info == "display"
                found.append([child.content.strip(), display])
    return found


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_formulas_are_found_as_the_live_view_finds_them(case: dict) -> None:
    assert formulas(case["markdown"]) == case["formulas"]
