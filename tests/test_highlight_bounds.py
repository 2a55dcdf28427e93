"""Model output cannot make the saved copy's highlighting block the kernel (audit F9).

The fence's info string picks the lexer, so only the languages the live view highlights are
looked up, and a block above `HIGHLIGHT_LIMIT` is shown as plain escaped text.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from streamchat_widget.answer import Reply
from streamchat_widget.static_copy import HIGHLIGHT_LIMIT, LEXERS, to_html
from tests.markdown_structure import structure


def _code_of(text: str) -> tuple[str, float]:
    started = time.perf_counter()
    page = to_html(Reply(text=text, status="done", model="m", messages=[]))
    elapsed = time.perf_counter() - started
    [pre] = structure(page, within="streamchat-answer")
    return pre[2][2], elapsed


def test_a_16kb_adl_block_renders_at_once_and_shows_the_code() -> None:
    code = "archetype (adl_version=1.4)\n    a-a-a." + "a" * 16000
    shown, elapsed = _code_of(f"```adl\n{code}\n```\n")
    assert shown == code
    assert elapsed < 0.5


def test_a_huge_python_block_renders_at_once_and_shows_the_code() -> None:
    code = "def f(x):\n    return [x ** 2 for x in range(10)]  # squares\n" * 20_000
    assert len(code) > 50 * HIGHLIGHT_LIMIT
    shown, elapsed = _code_of(f"```python\n{code}```\n")
    assert shown == code.removesuffix("\n")
    assert elapsed < 0.5


@pytest.mark.parametrize("language", ["python", "py", "js", "ts", "sh", "shell", "html"])
def test_the_languages_of_the_live_view_are_highlighted(language: str) -> None:
    text = f'```{language}\nx = "s" <b>1</b>\n```'
    page = to_html(Reply(text=text, status="done", model="m", messages=[]))
    assert language in LEXERS
    assert "<span class=" in page.split('class="streamchat-answer"')[1]


@pytest.mark.parametrize("language", ["adl", "smithy", "brainfuck", "python-console"])
def test_other_languages_are_plain_text(language: str) -> None:
    page = to_html(Reply(text=f"```{language}\nx = 1\n```", status="done", model="m", messages=[]))
    answer = page.split('class="streamchat-answer"')[1].split("</pre>")[0]
    assert "<span" not in answer
    assert "x = 1" in answer


def test_the_pygments_floor_excludes_the_lexers_with_known_redos() -> None:
    """CVE-2022-40896 (SmithyLexer, fixed in 2.15) and CVE-2026-4539 (AdlLexer, 2.20)."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    [pygments] = [
        Requirement(r) for r in project["project"]["dependencies"] if r.startswith("pygments")
    ]
    assert not pygments.specifier.contains("2.19.2")
    assert pygments.specifier.contains("2.20.0")
