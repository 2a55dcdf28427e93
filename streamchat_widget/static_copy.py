"""The answer as it stays in the notebook once the stream ends: no widget needed.

When an answer ends, its output is replaced by this bundle: `text/html` (our own
rendering, with the `streamchat` class and final `data-status`, which JupyterLab
prefers), `text/markdown` (for GitHub, nbviewer and exports that prefer it) and
`text/plain`. A widget view would instead show "model not found" in a notebook
reopened without a kernel, and nbconvert renders the view (not the Markdown)
whenever the executing client saved widget state, as nbclient does.
Model output is untrusted: the HTML comes from markdown-it with raw HTML off
(tags are shown as text, script URLs are not linked), the Markdown from
`markdown_copy`, which writes it back from the parse with only syntax it chose.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from markdown_it.token import Token
from markdown_it.utils import OptionsDict, OptionsType
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from .attachments import chip_text, chips_line
from .markdown_copy import inert_markdown, inert_text
from .markdown_syntax import answer_parser
from .math_syntax import MATH_IGNORE, render_math_block, render_math_inline

if TYPE_CHECKING:
    from .reply import Reply

# The languages the live view highlights (js/src/markdown.ts) and their usual names, mapped
# to Pygments lexers. Model output names the language: any other name, or a block above the
# size cap, is shown as plain text, so a hostile block cannot pick a slow lexer or run one long.
LEXERS = {
    **dict.fromkeys(("bash", "sh", "shell", "zsh"), "bash"),
    **dict.fromkeys(("cpp", "c++", "cc", "cxx", "hpp", "hh", "hxx", "h"), "cpp"),
    "css": "css",
    **dict.fromkeys(("javascript", "js", "jsx", "mjs", "cjs"), "javascript"),
    "json": "json",
    **dict.fromkeys(("python", "py", "python3", "py3", "ipython"), "python"),
    **dict.fromkeys(("rust", "rs"), "rust"),
    "sql": "sql",
    **dict.fromkeys(("typescript", "ts", "tsx", "mts", "cts"), "typescript"),
    **dict.fromkeys(("xml", "html", "xhtml", "svg"), "html"),
    **dict.fromkeys(("yaml", "yml"), "yaml"),
}
HIGHLIGHT_LIMIT = 20_000


def _highlight(code: str, language: str, _attrs: str) -> str:
    """Pygments spans: JupyterLab and nbconvert style `.highlight` with the editor theme."""
    name = LEXERS.get(language.split()[0].lower()) if language else None
    if name is None or len(code) > HIGHLIGHT_LIMIT:
        return ""
    return highlight(code, get_lexer_by_name(name), HtmlFormatter(nowrap=True))


def _image(self, tokens, idx, options, env) -> str:
    """A remote image is never fetched by the saved copy: it becomes a link to the image."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.lower().startswith("data:image/"):
        return self.image(tokens, idx, options, env)
    esc = html.escape
    try:
        scheme = urlsplit(src).scheme.lower()
    except ValueError:  # not a URL a browser could fetch either
        return esc(alt)
    if scheme not in ("", "http", "https"):
        return esc(alt)
    marks = f'class="streamchat-remote-image" data-src="{esc(src)}" data-alt="{esc(alt)}"'
    opened = sum({"link_open": 1, "link_close": -1}.get(t.type, 0) for t in tokens[:idx])
    if opened:  # inside a link already: a link in a link is not HTML
        return f'<span {marks} title="Image not loaded: {esc(src)}">{esc(alt or src)}</span>'
    return (
        f'<a {marks} href="{esc(src)}" target="_blank" rel="noopener noreferrer" '
        f'title="Image not loaded: {esc(src)}">{esc(alt or src)}</a>'
    )


_MARKDOWN = answer_parser(highlight=_highlight)
_MARKDOWN.add_render_rule("image", _image)
_MARKDOWN.add_render_rule("math_inline", render_math_inline)
_MARKDOWN.add_render_rule("math_block", render_math_block)
_MARKDOWN.add_render_rule("s_open", lambda self, tokens, idx, options, env: "<del>")
_MARKDOWN.add_render_rule("s_close", lambda self, tokens, idx, options, env: "</del>")
# Code blocks take their box from the copy's one `<style>` element, not a `style` attribute on
# each `<pre>`: JupyterLab's table of contents sanitizes the whole output, parsing every style
# attribute as CSS, in one task after a finished answer shows (a third of it on 540 blocks).
# Where `<style>` is stripped (an untrusted notebook), blocks keep JupyterLab's own code look.
_STYLE = (
    "<style>.streamchat .streamchat-answer pre.highlight{"
    "background:var(--jp-cell-editor-background,#f7f7f7);border:1px solid "
    "var(--jp-border-color2,#e0e0e0);border-radius:4px;padding:8px 10px;overflow-x:auto}</style>"
)
# A long answer's code blocks are highlighted while their first `HIGHLIGHT_BUDGET` characters
# last (the first screenfuls); later blocks are plain text in the same box. Every token Pygments
# marks is an element the page parses twice and the table of contents sanitizes once.
HIGHLIGHT_BUDGET = 4000
_PLAIN = OptionsDict(cast(OptionsType, {**_MARKDOWN.options, "highlight": None}))
_fence = _MARKDOWN.renderer.rules["fence"]


def _code_block(self, tokens, idx, options, env) -> str:
    """A fence as a `.highlight` block, highlighted while the answer's budget lasts."""
    left = env.get("highlight_left")
    if left is not None:
        env["highlight_left"] = left - len(tokens[idx].content)
        if env["highlight_left"] < 0:
            options = _PLAIN
    return _fence(tokens, idx, options, env).replace("<pre>", '<pre class="highlight">', 1)


_MARKDOWN.add_render_rule("fence", _code_block)
_MARKDOWN.add_render_rule(
    "link_open",
    lambda self, tokens, idx, options, env: (
        tokens[idx].attrSet("target", "_blank"),
        tokens[idx].attrSet("rel", "noopener noreferrer"),
        self.renderToken(tokens, idx, options, env),
    )[-1],
)
# Headings of an answer stay out of JupyterLab's table of contents, as the live view's do: it
# would list every heading of every answer, and render a tree entry for each at once.
_MARKDOWN.add_render_rule(
    "heading_open",
    lambda self, tokens, idx, options, env: (
        tokens[idx].attrJoin("class", "jp-toc-ignore"),
        self.renderToken(tokens, idx, options, env),
    )[-1],
)
# A long answer is saved in parts of about this many characters that the browser lays out and
# paints only near the screen (`content-visibility: auto`): JupyterLab lays the whole output
# out in the task that shows it, which froze the page for a second on a 20 000-token answer.
# Shorter answers stay one piece (`innerText` leaves out the parts that are skipped).
PART_CHARS = 8000
PARTS_FROM = 16_000
_LINE_PX = 24  # the first guess of a part's height, per source line, until it is laid out


def _answer_html(text: str) -> str:
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(text, env)
    render = _MARKDOWN.renderer.render
    if len(text) < PARTS_FROM:
        return render(tokens, _MARKDOWN.options, env)
    env["highlight_left"] = HIGHLIGHT_BUDGET
    html = []
    for start, end in _parts(tokens):
        lines = [t.map for t in tokens[start:end] if t.map]
        height = _LINE_PX * (lines[-1][1] - lines[0][0]) if lines else 100
        # Skipped parts clip what overflows them: a wide table scrolls inside its part.
        style = f"content-visibility:auto;contain-intrinsic-size:auto {height}px;overflow-x:auto"
        html.append(f'<div class="streamchat-part" style="{style}">')
        html.append(render(tokens[start:end], _MARKDOWN.options, env))
        html.append("</div>")
    return "".join(html)


def _parts(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of about `PART_CHARS` characters, each ending with a top-level block."""
    parts, start, size = [], 0, 0
    for i, token in enumerate(tokens):
        size += len(token.content)
        if token.level == 0 and token.nesting <= 0 and size >= PART_CHARS:
            parts.append((start, i + 1))
            start, size = i + 1, 0
    if start < len(tokens):
        parts.append((start, len(tokens)))
    return parts


_BOX = (
    "border:1px solid var(--jp-border-color2,#e0e0e0);border-radius:6px;padding:8px 12px;"
    "margin:2px 0;background:var(--jp-layout-color1,transparent);"
    "color:var(--jp-content-font-color1,inherit)"
)
PLAIN_LIMIT = 4000
_QUIET = "font-size:var(--jp-ui-font-size0,11px);color:var(--jp-ui-font-color2,#616161)"
# Every colour is a theme variable (the fallbacks serve nbviewer and exports), so Dark
# stays readable; the live card (styles.css) uses the same ones.
_ERROR = (
    "border-left:3px solid var(--jp-error-color1,#d32f2f);padding:4px 8px;margin-top:6px;"
    "background:var(--jp-layout-color1,transparent);color:var(--jp-content-font-color1,inherit)"
)
_CHIP = (
    "display:inline-block;margin:0 4px 2px 0;padding:0 6px;border-radius:8px;"
    "border:1px solid var(--jp-border-color1,#bdbdbd)"
)
_HINT = "font-size:var(--jp-ui-font-size1,12px);color:var(--jp-content-font-color2,#555)"
# Adds the Copy buttons where scripts run (a trusted notebook, an HTML export) and
# nowhere else, so an untrusted view never shows a dead button. Ours, not the model's.
# Code buttons come 40 blocks a task: not all of a long answer's in the task that shows it.
_COPY_SCRIPT = """<script>(function (me) {
  var root = me.closest(".streamchat");
  if (!root || !navigator.clipboard) return;
  var style = "margin-left:8px;font-size:11px;cursor:pointer;padding:1px 8px;border-radius:3px;"
    + "border:1px solid var(--jp-border-color1,#bdbdbd);background:var(--jp-layout-color1,#fff);"
    + "color:var(--jp-ui-font-color1,#1f1f1f)";
  function button(name, cls, text) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = "Copy"; b.className = cls; b.style.cssText = style;
    b.setAttribute("aria-label", name);
    b.onclick = function () {
      navigator.clipboard.writeText(text()).then(function () {
        b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500);
      });
    };
    return b;
  }
  var source = JSON.parse(root.querySelector(".streamchat-source").textContent).text;
  root.querySelector(".streamchat-footer").append(
    button("Copy", "streamchat-copy", function () { return source; }));
  var blocks = Array.prototype.slice.call(root.querySelectorAll(".streamchat-answer pre"));
  (function some(from) {
    blocks.slice(from, from + 40).forEach(function (pre) {
      var box = document.createElement("div");
      box.style.position = "relative";
      pre.replaceWith(box);
      var b = button("Copy code", "streamchat-code-copy", function () {
        return pre.textContent.replace(/\\n$/, "");
      });
      b.style.cssText += ";position:absolute;top:4px;right:4px";
      box.append(pre, b);
    });
    if (from + 40 < blocks.length) setTimeout(some, 0, from + 40);
  })(0);
})(document.currentScript);</script>"""


def bundle(
    reply: Reply, host: str, options: dict[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Display data and metadata of a finished answer."""
    data = {
        "text/html": to_html(reply),
        "text/markdown": to_markdown(reply),
        "text/plain": to_plain(reply),
    }
    return data, {"text/markdown": {"streamchat": provenance(reply, host, options)}}


def footer(reply: Reply) -> str:
    parts = [f"{reply.model} ({reply.source})" if reply.source else reply.model, reply.status]
    if reply.finish_reason == "length":
        parts.append("truncated (max tokens)")
    if reply.usage and reply.usage.get("completion_tokens") is not None:
        parts.append(f"{reply.usage['completion_tokens']} tokens")
    parts.append(f"{reply.stats.get('elapsed_s', 0):.1f} s")
    return " · ".join(parts)


def to_html(reply: Reply) -> str:
    esc = html.escape
    # The status is also a class: JupyterLab's sanitizer (untrusted notebooks) drops data-*.
    status = esc(reply.status)
    root = f'class="streamchat streamchat-status-{status}" data-status="{status}"'
    parts = [f'<div {root} style="{_BOX}">', _STYLE]
    header = f'<span class="streamchat-model">{esc(reply.model)}</span>'
    if reply.conversation:
        header += f' · <span class="streamchat-conversation">{esc(reply.conversation)}</span>'
    if reply.source:
        header += f' · <span class="streamchat-badge">{esc(reply.source)}</span>'
    parts.append(f'<div class="streamchat-header" style="{_QUIET}">{header}</div>')
    if reply.notice:
        parts.append(f'<div class="streamchat-notice" style="{_QUIET}">{esc(reply.notice)}</div>')
    if reply.attachments:
        chips = "".join(
            f'<span class="streamchat-chip" style="{_CHIP}">{esc(chip_text(c))}</span>'
            for c in reply.attachments
        )
        parts.append(f'<div class="streamchat-attachments" style="{_QUIET}">{chips}</div>')
    if reply.reasoning:
        parts.append(
            '<details class="streamchat-reasoning"><summary>Thinking</summary>'
            f'<div class="{MATH_IGNORE}" style="white-space:pre-wrap;{_QUIET}">'
            f"{esc(reply.reasoning)}</div></details>"
        )
    answer = _answer_html(reply.text)
    parts.append(f'<div class="streamchat-answer"><div class="{MATH_IGNORE}">{answer}</div></div>')
    if reply.refusal:
        parts.append(
            '<div class="streamchat-refusal" style="font-style:italic;border-left:3px solid '
            f'var(--jp-warn-color1,#f0ad4e);padding-left:8px">{esc(reply.refusal)}</div>'
        )
    if reply.error:
        parts.append(
            f'<div class="streamchat-error" role="alert" style="{_ERROR}">'
            f'<strong class="streamchat-error-title">{esc(reply.error["title"])}</strong> '
            f'<span class="streamchat-error-message">{esc(reply.error["message"])}</span>'
            f'<div class="streamchat-error-hint" style="{_HINT}">'
            f"{esc(reply.error.get('hint', ''))}</div></div>"
        )
    parts.append(f'<div class="streamchat-footer" style="{_QUIET}">{esc(footer(reply))}</div>')
    # Every "<" escaped: the answer cannot close this element and become markup.
    source = json.dumps({"text": reply.text}).replace("<", "\\u003c")
    parts.append(f'<script type="application/json" class="streamchat-source">{source}</script>')
    parts.append(_COPY_SCRIPT)
    parts.append("</div>")
    return "".join(parts)


def to_markdown(reply: Reply) -> str:
    """The answer's Markdown; notice, refusal, error and footer are server- or model-made: text."""

    def quote(markdown: str) -> str:
        return "\n".join(f"> {line}" for line in markdown.split("\n"))

    notice, refusal = inert_text(reply.notice), inert_text(reply.refusal)
    parts = [f"*{notice}*"] if notice else []
    if reply.attachments:
        parts.append(f"*{inert_text(chips_line(reply.attachments))}*")
    if refusal:
        parts.append(quote(f"**Refusal:** {refusal}"))
    if reply.text:
        parts.append(inert_markdown(reply.text))
    if reply.error:
        title, message = inert_text(reply.error["title"]), inert_text(reply.error["message"])
        parts.append(quote(f"**Error: {title}** {message}"))
    parts.append(f"*{inert_text(footer(reply))}*")
    return "\n\n".join(parts)


def to_plain(reply: Reply) -> str:
    """The answer for text-only views; a long one is cut, as the other copies hold it whole.

    Every copy of the answer costs its full size in kernel traffic and in the file.
    """
    body = reply.text or reply.refusal
    if reply.attachments:
        body = f"[{chips_line(reply.attachments)}]\n\n{body}"
    if len(body) > PLAIN_LIMIT:
        body = f"{body[:PLAIN_LIMIT]}… [{len(body) - PLAIN_LIMIT} more characters]"
    if reply.error:
        body += f"\n\n[error] {reply.error['title']}: {reply.error['message']}"
    return f"{body}\n\n[{footer(reply)}]"


def provenance(reply: Reply, host: str, options: dict[str, Any]) -> dict[str, Any]:
    """Machine-readable origin of an answer: never the key or a URL with credentials."""
    return {
        "model": reply.model,
        "endpoint": host,
        "conversation": reply.conversation,
        "source": reply.source or "model",
        "options": options,
        "status": reply.status,
        "finish_reason": reply.finish_reason,
        "usage": reply.usage,
        "timing": reply.stats,
    }
