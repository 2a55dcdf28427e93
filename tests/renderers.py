"""The renderers that read a saved `text/markdown` copy, and a check of what they produce.

marked (GFM, no sanitizer) is what JupyterLab runs on trusted `text/markdown`; it runs in
one long-lived node process (`marked_render.mjs`), so a fuzz run pays node's start once.
markdown-it-py with raw HTML on stands in for CommonMark readers (GitHub, VS Code).
"""

from __future__ import annotations

import atexit
import functools
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

HERE = Path(__file__).parent
MARKDOWN_IT_HTML = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
FORBIDDEN_TAGS = frozenset({
    "script", "iframe", "frame", "frameset", "svg", "math", "object", "embed", "style", "base",
    "form", "meta", "link", "template",
})  # fmt: skip
# What Markdown itself makes (marked and markdown-it); anything else came from raw HTML.
MARKDOWN_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "s", "code", "pre", "a",
    "img", "ul", "ol", "li", "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th",
    "td", "input",
})  # fmt: skip
MARKDOWN_ATTRIBUTES = frozenset({
    "href", "src", "alt", "title", "class", "start", "align", "style", "checked", "disabled",
    "type",
})  # fmt: skip
ALIGN_STYLES = frozenset({"text-align:left", "text-align:right", "text-align:center"})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text")


class Marked:
    """marked in node, one JSON line per request."""

    def __init__(self) -> None:
        self._node = subprocess.Popen(
            ["node", str(HERE / "marked_render.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            encoding="utf-8",
        )

    def render(self, markdown: str) -> str:
        assert self._node.stdin and self._node.stdout
        self._node.stdin.write(json.dumps({"markdown": markdown}) + "\n")
        self._node.stdin.flush()
        reply = json.loads(self._node.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"marked failed: {reply['error']}")
        return reply["html"]

    def close(self) -> None:
        if self._node.poll() is None:
            assert self._node.stdin
            self._node.stdin.close()
            self._node.wait(timeout=10)


@functools.cache
def marked() -> Marked:
    """The session's one node process; closed when the interpreter exits."""
    process = Marked()
    atexit.register(process.close)
    return process


def _compact_url(value: str) -> str:
    """What a browser reads as the scheme: no spaces or control characters, lower case."""
    return "".join(char for char in value if ord(char) > 0x20 and char != "\x7f").lower()


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.violations: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.violations.append(f"<{tag}> element")
        elif tag not in MARKDOWN_TAGS:
            self.violations.append(f"raw <{tag}> element")
        for name, value in attrs:
            if name not in MARKDOWN_ATTRIBUTES or (name == "style" and value not in ALIGN_STYLES):
                self.violations.append(f"raw {name}={value!r} on <{tag}>")
            url = _compact_url(value or "")
            if name.startswith("on"):
                self.violations.append(f"{name} handler on <{tag}>")
            elif name in URL_ATTRIBUTES and url.startswith(SCRIPT_SCHEMES):
                self.violations.append(f"{name}={value!r} on <{tag}>")
            if tag == "img" and name == "src" and not url.startswith("data:image/"):
                self.violations.append(f"remote <img src={value!r}>")


def violations(html: str) -> list[str]:
    """Everything in `html` that could run script or fetch by itself, or that only raw HTML
    (not Markdown) could have made."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.violations
