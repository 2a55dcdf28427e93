"""Markdown with the model's raw HTML neutralized, for the static copy of an answer.

JupyterLab renders kernel-made `text/markdown` without sanitizing it, and so do
`nbconvert --to html` and VS Code: an `<img onerror>` in a model's answer would
run there. So outside fenced code every `<` becomes `&lt;` (no tag, comment or
autolink survives), inline code spans become `<code>` elements with escaped
text (so a mis-parsed span can never leave markup behind), and link
destinations whose scheme is not http(s), mailto or ftp are replaced by `#`.
Fenced code stays as it is, so it keeps its syntax highlighting; a fence is
only recognised by CommonMark's strict opening rule, and closed by a lenient
one, so any disagreement with a renderer errs towards escaping.
"""

from __future__ import annotations

import html
import re

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "ftp"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_LINK_DEST = re.compile(r"(\]\(\s*)([^\s)]*)")
_REF_DEF = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)(\S+)", re.MULTILINE)
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def neutralize(markdown: str) -> str:
    """Markdown that renders like `markdown` but cannot carry live HTML or script URLs."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        if fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        opening = _FENCE_OPEN.match(line.rstrip("\r\n"))
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            out.append(_prose("".join(prose)))
            prose.clear()
            fence = opening["fence"]
            info = re.match(r"\s*([\w+#.\-]*)", opening["info"])
            out.append(fence + (info.group(1) if info else "") + "\n")
            continue
        prose.append(line)
    out.append(_prose("".join(prose)))
    return "".join(out)


def _prose(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        pieces.append(_escape(text[last : span.start()]))
        pieces.append(f"<code>{html.escape(span.group(2).strip() or span.group(2))}</code>")
        last = span.end()
    pieces.append(_escape(text[last:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    text = text.replace("<", "&lt;")
    text = _LINK_DEST.sub(lambda m: m.group(1) + _safe_destination(m.group(2)), text)
    return _REF_DEF.sub(lambda m: m.group(1) + _safe_destination(m.group(2)), text)


def _safe_destination(destination: str) -> str:
    """`#` for any destination a browser would run or load as a script-capable scheme."""
    decoded = html.unescape(destination)
    compact = re.sub(r"[\x00-\x20\\]", "", decoded).lower().lstrip("<")
    scheme = _SCHEME.match(compact)
    if scheme and scheme.group(1) not in _SAFE_SCHEMES:
        return "#"
    return destination
