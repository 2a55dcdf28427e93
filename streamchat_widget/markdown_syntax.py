"""The Markdown dialect answers are read in, for both saved copies.

What the live view's marked (GFM) shows is what the saved copies must show:
CommonMark with tables, strikethrough, bare URLs and e-mail addresses linked
(with a scheme or an @, never a bare `example.py` or `//host`), task items
as ☑/☐ text, inert in every viewer, and TeX math (`math_syntax`). Raw HTML is never markup.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from .math_syntax import math_plugin


def answer_parser(**options: Any) -> MarkdownIt:
    """A parser of answers; `options` (e.g. `highlight`) go to markdown-it."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": True, **options}).enable(
        ["table", "strikethrough", "linkify"]
    )
    linkify = parser.linkify
    if linkify is None:  # markdown-it leaves it None without linkify-it-py, a dependency
        raise ImportError("streamchat-widget needs linkify-it-py")
    linkify.set({"fuzzy_link": False})
    linkify.add("//", None)
    parser.core.ruler.before("inline", "streamchat_tasks", _task_items)
    parser.use(math_plugin)
    return parser


def _task_items(state: StateCore) -> None:
    """GFM task items `- [ ]` / `- [x]` as ☐/☑ text, marked on the item for styling."""
    tokens = state.tokens
    for item, paragraph, inline in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if item.type != "list_item_open" or paragraph.type != "paragraph_open":
            continue
        marker, rest = inline.content[:3], inline.content[3:]
        text = rest.lstrip(" \t")
        if marker.lower() in ("[ ]", "[x]") and rest[:1] in (" ", "\t") and text[:1].strip():
            inline.content = ("☐ " if marker == "[ ]" else "☑ ") + text
            item.attrSet("class", "streamchat-task")
            item.attrSet("style", "list-style-type:none")
