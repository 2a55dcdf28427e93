"""The saved `text/markdown` copy of an answer, written back from one CommonMark parse.

JupyterLab renders kernel-made `text/markdown` without sanitizing it; GitHub, VS Code
and nbviewer read it too. Patching the model's Markdown in place would need to know
where each renderer sees code, fences and links, and renderers disagree. So the answer
is parsed once (markdown-it-py: CommonMark, raw HTML off, GFM tables, strikethrough,
task lists, bare URLs) and the copy is serialized from the tokens, using only syntax
chosen here:

- text escapes every character that could start Markdown syntax (`<`, `>`, `&` as
  entities), so raw HTML, entities, autolinks and reference definitions stay text;
- code spans and fences are delimited by a backtick run longer than any inside them,
  and every fence carries an info word, so no fence can be closed early by a line of
  its content nor closed by a later opener;
- links keep only http, https and mailto destinations, written `<...>`; remote images
  become links (nothing is fetched by opening the notebook), `data:image/...` stays;
- containers prefix every line, so no lazy continuation is left for a renderer to guess,
  and a blank line ends every table;
- math is written `$…$` / `$$…$$` on one line, with no markup a renderer without math
  could find in it (`_tex`).

Where marked (JupyterLab's renderer) parses differently from CommonMark, the escaping
leans to what marked needs; `tests/test_markdown_copy_fuzz.py` renders hostile answers
with both.
"""

from __future__ import annotations

import string
from urllib.parse import urlsplit

from markdown_it.token import Token

from .markdown_syntax import answer_parser

PARSER = answer_parser()
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DATA_IMAGES = ("data:image/png;", "data:image/gif;", "data:image/jpeg;", "data:image/webp;")
# Start code, links, emphasis, tables, math (JupyterLab), e-mail autolinks, ATX closing
# sequences or escapes anywhere; marked does not see a link whose text holds `\](`.
_ALWAYS = frozenset("\\`*_[]()|~!$@#")
# Raw HTML, autolinks, entities: as entities, which every Markdown renderer decodes (not all
# honour a backslash before them, Python-Markdown for one).
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ESCAPES = str.maketrans({**{char: "\\" + char for char in _ALWAYS}, **_ENTITIES})
# Start a block only at the beginning of a line.
_LINE_START = frozenset("-+=")
# Also escaped in link destinations (written `<...>`): `&` would start an entity there.
_DESTINATION = _ALWAYS | frozenset("&'\"{}^")
_LANGUAGE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#.-_")
_PLAIN_FENCE_INFO = "text"
PARSE_LIMIT = 100_000
_ALIGNMENTS = {"text-align:left": ":---", "text-align:right": "---:", "text-align:center": ":---:"}


def inert_markdown(markdown: str) -> str:
    """Markdown that renders like `markdown` does in CommonMark, with no live HTML or script URL.

    The copy is made on the kernel's loop when an answer ends, and markdown-it-py parses
    about 0.5-1 MB/s here: past `PARSE_LIMIT` characters the answer stays its source, fenced.
    """
    if len(markdown) > PARSE_LIMIT:
        note = _escape(f"(Answer longer than {PARSE_LIMIT} characters: its Markdown source.)")
        source = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
        return "\n".join([f"*{note}*", "", *_fence(source, "markdown")])
    return "\n".join(_blocks(_tree(PARSER.parse(markdown)), tight=False))


def inert_text(text: str) -> str:
    """`text` shown as itself in Markdown: every line escaped, line breaks kept as hard breaks."""
    lines = [_escape(line.strip(), line_start=True) for line in text.splitlines()]
    return "\\\n".join(line for line in lines if line)


class _Node:
    """A token with the tokens it encloses (markdown-it's own tree is slower by far)."""

    __slots__ = ("children", "token", "type")
    children: list[_Node]
    token: Token
    type: str


def _tree(tokens: list[Token]) -> list[_Node]:
    root: list[_Node] = []
    stack = [root]
    new = object.__new__  # no __init__ call: this runs once per token of the answer
    for token in tokens:
        if token.nesting == -1:
            stack.pop()
            continue
        node = new(_Node)
        node.token = token
        node.type = token.type.removesuffix("_open")
        node.children = _tree(token.children) if token.children else []
        stack[-1].append(node)
        if token.nesting == 1:
            stack.append(node.children)
    return root


def _escape(text: str, *, line_start: bool = False) -> str:
    head = ""
    if line_start:
        text = text.lstrip(" \t")
        digits = len(text) - len(text.lstrip("0123456789"))
        if 0 < digits < len(text) and text[digits] in ".)":
            head, text = text[:digits] + "\\" + text[digits], text[digits + 1 :]
        elif text[:1] and text[0] in _LINE_START:
            head, text = "\\" + text[0], text[1:]
    return head + _no_autolinks(text.translate(_ESCAPES), "\\")


def _no_autolinks(text: str, mark: str) -> str:
    """`text` with `mark` before each `:/` and inside each `www.`, so that marked's GFM
    autolinks (`http://`, `www.`), which run on over escapes, code spans' backticks and a
    formula's closing `$`, never start."""
    text = text.replace(":/", mark + ":/")
    lower = text.translate(_ASCII_LOWER)  # str.lower() can change the length
    pieces, cut, start = [], 0, lower.find("www.")
    while start >= 0:
        pieces.append(text[cut : start + 3])
        cut = start + 3
        start = lower.find("www.", cut)
    pieces.append(text[cut:])
    return mark.join(pieces)


def _blocks(nodes: list[_Node], *, tight: bool) -> list[str]:
    lines: list[str] = []
    previous = ""
    for node in nodes:
        # A GFM table runs on over any line that follows it, splitting code spans at `|`:
        # a blank line ends it, even in a tight list item (which then renders loose).
        if lines and (not tight or "table" in (previous, node.type)):
            lines.append("")
        lines.extend(_block(node))
        previous = node.type
    return lines


def _block(node: _Node) -> list[str]:
    kind = node.type
    if kind == "paragraph":
        return _inline_lines(node.children[0])
    if kind == "heading":
        text = _inline(node.children[0].children, single_line=True)
        return [f"{'#' * int(node.token.tag[1])} {text}"]
    if kind in ("fence", "code_block"):
        return _fence(node.token.content, node.token.info if kind == "fence" else "")
    if kind == "blockquote":
        lines = _blocks(node.children, tight=False) or [""]
        return [f"> {line}" if line else ">" for line in lines]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "hr":
        # Not `***` or `---`: after a `*` or `-` list marker those would make the item a rule.
        return ["___"]
    if kind == "table":
        return _table(node)
    if kind == "math_block":
        return [f"$${_tex(node.token.content, in_table=False)}$$"]
    raise ValueError(f"no Markdown serialization for {kind!r}")


def _fence(content: str, info: str) -> list[str]:
    body = content.removesuffix("\n").split("\n") if content else []
    fence = "`" * max(3, _longest_run(content, "`") + 1)
    words = info.split()
    word = words[0] if words else ""
    if not word or len(word) > 40 or not set(word) <= _LANGUAGE_CHARS:
        word = _PLAIN_FENCE_INFO
    return [fence + word, *body, fence]


def _list(node: _Node) -> list[str]:
    ordered = node.type == "ordered_list"
    start = int(node.token.attrs.get("start", 1)) if ordered else 0
    tight = not any(
        child.type == "paragraph" and not child.token.hidden
        for item in node.children
        for child in item.children
    )
    lines: list[str] = []
    for number, item in enumerate(node.children, start):
        marker = f"{number}{node.token.markup}" if ordered else node.token.markup
        body = _blocks(item.children, tight=tight)
        if lines and not tight:
            lines.append("")
        if not body:
            lines.append(marker)
            continue
        indent = " " * (len(marker) + 1)
        lines.append(f"{marker} {body[0]}")
        lines.extend(indent + line if line else "" for line in body[1:])
    return lines


def _table(node: _Node) -> list[str]:
    rows = [row for section in node.children for row in section.children]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            _inline(cell.children[0].children, single_line=True, in_table=True)
            if cell.children
            else ""
            for cell in row.children
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("| " + " | ".join(_alignment(cell) for cell in row.children) + " |")
    return lines


def _alignment(cell: _Node) -> str:
    return _ALIGNMENTS.get(str(cell.token.attrs.get("style", "")), "---")


def _inline_lines(inline: _Node) -> list[str]:
    return _inline(inline.children).split("\n")


def _inline(
    nodes: list[_Node],
    *,
    single_line: bool = False,
    in_table: bool = False,
    in_link: bool = False,
    in_strikethrough: bool = False,
) -> str:
    out: list[str] = []
    line_start = not single_line
    for node in nodes:
        kind = node.type
        children = node.children
        nested = {
            "single_line": single_line,
            "in_table": in_table,
            "in_link": in_link or kind == "link",
            "in_strikethrough": in_strikethrough or kind == "s",
        }
        if kind == "text":
            out.append(_escape(node.token.content, line_start=line_start))
        elif kind in ("softbreak", "hardbreak"):
            out.append(" " if single_line else "\\\n" if kind == "hardbreak" else "\n")
            line_start = not single_line
            continue
        elif kind == "code_inline":
            out.append(_code_span(node.token.content, in_table=in_table, in_link=in_link))
        elif kind == "em":
            out.append(f"*{_inline(children, **nested)}*")
        elif kind == "strong":
            out.append(f"**{_inline(children, **nested)}**")
        elif kind == "s":
            # A strikethrough inside another adds nothing, and `~~~` could open a fence.
            body = _inline(children, **nested)
            out.append(body if in_strikethrough else f"~~{body}~~")
        elif kind == "link":
            href = str(node.token.attrs.get("href", ""))
            body = _inline(children, **nested)
            linked = _scheme(href) in _LINK_SCHEMES and not in_link
            out.append(f"[{body}]({_destination(href)}{_title(node)})" if linked else body)
        elif kind == "image":
            out.append(_image(node, in_link=in_link))
        elif kind == "math_inline":
            dollars = "$$" if node.token.info == "display" else "$"
            out.append(dollars + _tex(node.token.content, in_table=in_table) + dollars)
        else:
            raise ValueError(f"no Markdown serialization for {kind!r}")
        line_start = False
    return "".join(out)


def _code_span(content: str, *, in_table: bool, in_link: bool) -> str:
    """Backticks longer than any run inside, so the span ends where CommonMark ends it."""
    if in_link and "`" in content:
        # marked ends a code span in link text at the first backtick: keep it plain there.
        return _escape(content)
    if in_table:
        if "\\|" in content:
            # In a GFM table a backslash before a pipe cannot be kept inside code.
            return _escape(content)
        content = content.replace("|", "\\|")
    ticks = "`" * (_longest_run(content, "`") + 1)
    padded = (
        content[:1] == "`"
        or content[-1:] == "`"
        or (content[:1] == " " and content[-1:] == " " and content.strip(" ") != "")
    )
    return f"{ticks} {content} {ticks}" if padded else f"{ticks}{content}{ticks}"


def _tex(tex: str, *, in_table: bool) -> str:
    """A formula on one line, written so a renderer without math finds no markup in it.

    TeX ignores spaces in math, so one after each `<` (no tag, no autolink can start) and
    between `]` and `(` (no link) leaves the formula as it was, and so does `{}` (an empty
    group) before `:/` and inside `www.` (no autolink); a bracket without its pair in
    the formula (`[0, 1)`) is written `\\lbrack`/`\\rbrack`, the same in TeX, as it could pair
    with one outside and make a link or an image of the text between (marked lets such a
    link swallow a code span's backticks); comments end at their line, and a trailing
    backslash would escape the closing `$`. GitHub, JupyterLab and nbviewer typeset `$…$`
    and `$$…$$` written this way.
    """
    lines = []
    for line in tex.split("\n"):
        cut = next(
            (i for i, c in enumerate(line) if c == "%" and not _odd_backslashes(line, i)), -1
        )
        lines.append(line if cut == -1 else line[:cut])
    tex = " ".join(lines).strip().replace("<", "< ").replace("](", "] (")
    tex = _no_autolinks(_paired_brackets_only(tex), "{}")
    if in_table:
        tex = tex.replace("|", "\\vert ")
    if _odd_backslashes(tex, len(tex)):
        tex += " "
    return tex


def _paired_brackets_only(tex: str) -> str:
    """Unpaired `[` and `]` as `\\lbrack` and `\\rbrack`; pairs stay (`\\sqrt[3]{x}`)."""
    opened: list[int] = []
    unpaired: set[int] = set()
    for at, char in enumerate(tex):
        if char not in "[]" or _odd_backslashes(tex, at):
            continue
        if char == "[":
            opened.append(at)
        elif opened:
            opened.pop()
        else:
            unpaired.add(at)
    unpaired.update(opened)
    out = []
    for at, char in enumerate(tex):
        if at not in unpaired:
            out.append(char)
            continue
        out.append("\\lbrack" if char == "[" else "\\rbrack")
        if tex[at + 1 : at + 2].isalpha():  # a letter would continue the command's name
            out.append(" ")
    return "".join(out)


def _odd_backslashes(text: str, at: int) -> bool:
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _image(node: _Node, *, in_link: bool) -> str:
    """`data:image/...` stays an image; a remote one becomes a link, so nothing is fetched."""
    src = str(node.token.attrs.get("src", ""))
    alt = _escape(_plain(node.children))
    if src.lower().startswith(_DATA_IMAGES):
        return f"![{alt}]({_destination(src)}{_title(node)})"
    if _scheme(src) in ("http", "https") and not in_link:
        return f"[{alt or _escape(src)}]({_destination(src)})"
    return alt or _escape(src)


def _plain(nodes: list[_Node]) -> str:
    parts = []
    for node in nodes:
        if node.type in ("text", "code_inline"):
            parts.append(node.token.content)
        elif node.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        else:
            parts.append(_plain(node.children))
    return "".join(parts)


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _destination(url: str) -> str:
    """`<url>` with everything escaped that could end it or start an entity or emphasis.

    markdown-it has percent-encoded spaces, control characters, `<` and `>` already. In
    angle brackets, a renderer that failed to see the link would see an autolink ending at
    `>`, not a GFM autolink running on over the text after it and eating its escapes.
    """
    url = url.replace("<", "%3C").replace(">", "%3E")
    return "<" + "".join("\\" + char if char in _DESTINATION else char for char in url) + ">"


def _title(node: _Node) -> str:
    """A link's title, on one line, in double quotes."""
    title = " ".join(str(node.token.attrs.get("title", "")).split())
    if not title:
        return ""
    quoted = _escape(title).replace('"', '\\"')
    return f' "{quoted}"'


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for each in text:
        run = run + 1 if each == char else 0
        longest = max(longest, run)
    return longest
