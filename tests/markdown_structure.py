"""Rendered Markdown reduced to what a reader sees: a canonical tag tree with its text.

The same rules as `js/src/markdownStructure.ts`, so the live view and the saved `text/html`
copy are compared on one fixture (`tests/markdown_cases.json`, whose `_rules` states them).
Presentation is ignored: classes, target/rel, styles, highlighting spans, copy buttons and
wrapper divs; what a reader would notice is kept: tags, text, link and image targets, list
starts, column alignment and a code block's language.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TypeAlias

Node: TypeAlias = str | list

BLOCK = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "hr",
    "table", "thead", "tbody", "tr", "th", "td",
})  # fmt: skip
VOID = frozenset(("br", "hr", "img", "input", "wbr"))
UNWRAP = frozenset(("span", "div"))
DROP = frozenset(("button", "script", "style"))
_SPACE = re.compile(r"[ \t\n\r\f]+")


class _Tree(HTMLParser):
    """A minimal DOM: [tag, {attrs}, *children]; text as str."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list = ["#root", {}]
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = [tag, {k: v or "" for k, v in attrs}]
        self.stack[-1].append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].append([tag, {k: v or "" for k, v in attrs}])

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].append(data)


def _attrs(tag: str, attrs: dict[str, str], parent: str) -> dict[str, str]:
    keep: dict[str, str] = {}
    if tag == "a":
        keep = {k: attrs[k] for k in ("href", "title") if k in attrs}
    elif tag == "img":
        keep = {k: attrs[k] for k in ("src", "alt", "title") if k in attrs}
    elif tag == "ol" and attrs.get("start", "1") != "1":
        keep = {"start": attrs["start"]}
    elif tag in ("th", "td"):
        align = attrs.get("align") or _style_align(attrs.get("style", ""))
        keep = {"align": align} if align else {}
    elif tag == "code" and parent == "pre":
        for cls in attrs.get("class", "").split():
            if cls.startswith("language-"):
                keep = {"lang": cls.removeprefix("language-")}
    return keep


def _style_align(style: str) -> str:
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip().lower() == "text-align":
            return value.strip().lower()
    return ""


def _children(node: list, in_pre: bool) -> list[Node]:
    tag = node[0]
    out: list[Node] = []
    for child in node[2:]:
        if isinstance(child, str):
            out.append(child if in_pre else _SPACE.sub(" ", child))
            continue
        ctag, cattrs = child[0], child[1]
        if "streamchat-remote-image" in cattrs.get("class", "").split():
            out.append(
                [
                    "remote-image",
                    {"alt": cattrs.get("data-alt", ""), "src": cattrs.get("data-src", "")},
                ]
            )
        elif "streamchat-math" in cattrs.get("class", "").split():
            display = "streamchat-math-display" in cattrs.get("class", "").split()
            out.append(["math", {"display": "true"} if display else {}, _math_source(child)])
        elif ctag in DROP:
            continue
        elif ctag in UNWRAP:
            out.extend(_children(child, in_pre))
        else:
            inner = _children(child, in_pre or ctag == "pre")
            out.append([ctag, _attrs(ctag, cattrs, tag), *inner])
    merged = merge_text(out)
    if tag == "code" and in_pre and merged and isinstance(merged[-1], str):
        merged[-1] = merged[-1].removesuffix("\n")
    if in_pre:
        return [m for m in merged if m != ""]
    return _trim(merged, tag in BLOCK or tag == "#root")


def _math_source(node: list) -> str:
    """A saved formula's TeX: its text without the `\\(…\\)` or `\\[…\\]` MathJax reads."""
    text = "".join(child for child in node[2:] if isinstance(child, str))
    for opener, closer in (("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(opener) and text.endswith(closer):
            text = text[2:-2]
    return " ".join(text.split())


def merge_text(items: list[Node]) -> list[Node]:
    """Adjacent text runs as one string, as a renderer's text nodes read."""
    merged: list[Node] = []
    for item in items:
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] += item
        else:
            merged.append(item)
    return merged


def _is_break(item: Node) -> bool:
    return isinstance(item, list) and (item[0] in BLOCK or item[0] == "br")


def _trim(items: list[Node], block: bool) -> list[Node]:
    """Whitespace a browser would not show: at block edges and around blocks and <br>."""
    result: list[Node] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            if (block and i == 0) or (i > 0 and _is_break(items[i - 1])):
                item = item.lstrip(" ")
            if (block and i == len(items) - 1) or (i + 1 < len(items) and _is_break(items[i + 1])):
                item = item.rstrip(" ")
            if item == "":
                continue
        result.append(item)
    return result


def structure(fragment: str, within: str | None = None) -> list[Node]:
    """The canonical tree of an HTML fragment, or of the first element with class `within`."""
    tree = _Tree()
    tree.feed(fragment)
    tree.close()
    node = tree.root if within is None else _find(tree.root, within)
    if node is None:
        raise ValueError(f"no element with class {within!r}")
    return _children(["#root", {}, *node[2:]], False)


def _find(node: list, cls: str) -> list | None:
    if cls in node[1].get("class", "").split():
        return node
    for child in node[2:]:
        found = None if isinstance(child, str) else _find(child, cls)
        if found is not None:
            return found
    return None
