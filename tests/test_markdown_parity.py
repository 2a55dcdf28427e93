"""The saved text/html copy says what the live view says (section 2 of the hardening issue).

Every case of `tests/markdown_cases.json` is rendered by `static_copy.to_html` and its answer
part compared on structure with the expected tree; vitest checks the live renderer, one-shot
and streamed, against the same file (`js/src/markdownParity.test.ts`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamchat_widget.answer import Reply
from streamchat_widget.static_copy import to_html
from tests.markdown_structure import structure

CASES = json.loads((Path(__file__).parent / "markdown_cases.json").read_text(encoding="utf-8"))[
    "cases"
]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_saved_html_matches_the_shared_fixture(case: dict) -> None:
    reply = Reply(text=case["markdown"], status="done", model="m", messages=[])
    assert structure(to_html(reply), within="streamchat-answer") == case["expected"]
