"""TeX math in answers, as the live view reads it (`js/src/math.ts`, line for line).

`$…$`, `$$…$$`, `\\(…\\)` and `\\[…\\]` become `math_inline` tokens (`info` "display" for
the two display forms) and a `$$` block on its own lines a `math_block` token. The dollar
rules are pandoc's and dollarmath's (mdit-py-plugins) with spaces and digits not allowed: an
opening `$` is neither followed by whitespace nor preceded by a digit, a closing one neither
preceded by whitespace nor followed by a digit, so prices (`$5 and $10`) and shell variables
(`$HOME`) stay text. A formula holds no backtick, so code is never cut into.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token


def math_plugin(parser: MarkdownIt) -> None:
    """Adds the math rules; they run before backslash escapes, as `\\(` is one otherwise."""
    parser.inline.ruler.before("escape", "math_inline", _inline)
    parser.block.ruler.before("fence", "math_block", _block)


def _escaped(src: str, at: int) -> bool:
    count = 0
    while at - count - 1 >= 0 and src[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _digit(char: str) -> bool:
    return char != "" and char in "0123456789"


def inline_dollar(src: str, before: str = "") -> tuple[str, bool, int] | None:
    """`(tex, display, length)` of a `$…$` or `$$…$$` formula at the start of `src`."""
    if src[:1] != "$" or len(src) < 2 or src[1].isspace() or _digit(before[-1:]):
        return None
    double = src[1] == "$"
    pos = 2 if double else 1
    while True:
        end = src.find("$", pos)
        if end == -1:
            return None
        if _escaped(src, end):
            pos = end + 1
            continue
        if double and src[end + 1 : end + 2] != "$":
            if end + 1 >= len(src):
                return None
            pos = end + 1
            continue
        if double:
            end += 1
        break
    if src[end - 1].isspace() or _digit(src[end + 1 : end + 2]):
        return None
    tex = src[2 : end - 1] if double else src[1:end]
    if not tex or "`" in tex:
        return None
    return tex, double, end + 1


def inline_bracket(src: str) -> tuple[str, bool, int] | None:
    """`(tex, display, length)` of a `\\(…\\)` or `\\[…\\]` formula at the start of `src`."""
    opening = src[:2]
    closing = {"\\(": "\\)", "\\[": "\\]"}.get(opening)
    if closing is None:
        return None
    end = src.find(closing, 2)
    while end != -1 and _escaped(src, end):
        end = src.find(closing, end + 1)
    if end == -1:
        return None
    tex = src[2:end]
    if not tex.strip() or "`" in tex:
        return None
    return tex, opening == "\\[", end + 2


def _inline(state: StateInline, silent: bool) -> bool:
    src = state.src[state.pos : state.posMax]
    if src[:1] not in ("$", "\\"):
        return False
    before = state.src[state.pos - 1] if state.pos > 0 else ""
    found = inline_dollar(src, before) or inline_bracket(src)
    if found is None:
        return False
    tex, display, length = found
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = tex
        token.markup = src[:2] if src[0] == "\\" or display else "$"
        token.info = "display" if display else ""
    state.pos += length
    return True


def _block(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """A `$$` block: its opening line starts with `$$`; it ends on a line ending in `$$`."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    opening = state.src[begin : state.eMarks[start]].rstrip()
    if not opening.startswith("$$"):
        return False
    last = start
    if len(opening) > 3 and opening.endswith("$$"):
        tex = opening[2:-2]
    elif len(opening) > 3 and "$$" in opening[2:]:
        return False
    else:
        lines = [opening[2:]]
        last = start + 1
        while last < end_line:
            line = state.src[state.bMarks[last] : state.eMarks[last]]
            if line.strip().endswith("$$"):
                lines.append(line.rstrip()[:-2])
                break
            if not line.strip():
                return False
            lines.append(line)
            last += 1
        else:
            return False
        tex = "\n".join(lines)
    if silent:
        return True
    state.line = last + 1
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = tex
    token.markup = "$$"
    token.map = [start, state.line]
    return True


# MathJax (JupyterLab's `mathjax_*` classes, nbconvert's MathJax 2 `tex2jax_*`) typesets the
# saved HTML: only inside these elements, as `\(…\)` and `\[…\]`; the answer around them is
# ignored, so a price there is never read as a formula.
MATH_IGNORE = "tex2jax_ignore mathjax_ignore"
_PROCESS = "tex2jax_process mathjax_process"


def render_math_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A formula in a paragraph, for MathJax; `$$…$$` and `\\[…\\]` there display."""
    token = tokens[idx]
    tex = html.escape(token.content.strip(), quote=False)
    if token.info == "display":
        classes = f"streamchat-math streamchat-math-display {_PROCESS}"
        return f'<span class="{classes}">\\[{tex}\\]</span>'
    return f'<span class="streamchat-math {_PROCESS}">\\({tex}\\)</span>'


def render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A `$$` block, for MathJax."""
    tex = html.escape(tokens[idx].content.strip(), quote=False)
    return f'<div class="streamchat-math streamchat-math-display {_PROCESS}">\\[{tex}\\]</div>\n'
