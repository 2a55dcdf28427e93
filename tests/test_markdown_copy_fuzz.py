"""Hostile Markdown through the saved `text/markdown` copy: nothing live comes out.

Every example is a whole `to_markdown(reply)` rendered by marked (what JupyterLab uses,
unsanitized) and by markdown-it with raw HTML on; the HTML is parsed and must hold no
event handler, no script-capable element, no script URL and no remote image.
`HYPOTHESIS_PROFILE=hunt` runs a long search; every failure found is kept in
`markdown_copy_corpus.json` and replayed below as a plain test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamchat_widget.answer import Reply
from streamchat_widget.static_copy import to_markdown
from tests.renderers import MARKDOWN_IT_HTML, marked, violations

HERE = Path(__file__).parent
CORPUS = json.loads((HERE / "markdown_copy_corpus.json").read_text(encoding="utf-8"))
OLD_CORPUS = [case["payload"] for case in json.loads((HERE / "xss_corpus.json").read_text())]

settings.register_profile(
    "ci",
    max_examples=1500,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hunt",
    max_examples=30_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SCRIPT_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "java&Tab;script:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106avascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "\x01javascript:alert(1)",
    "java\\script:alert(1)",
    "javas%63ript:alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,x",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "data:image/png;base64,iVBORw0KGgo=",
    "https://evil.example/x.png?q=a_b*c",
    "http://evil.example/(x)",
    "//evil.example/x.png",
    "mailto:a@b.example",
    "x.png",
    "#frag",
]
RAW_HTML = [
    "<img src=x onerror=alert(1)>",
    '<img src="https://evil.example/t.png">',
    "<script>alert(1)</script>",
    "<svg onload=alert(1)>",
    "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<style>*{}</style>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<base href=javascript:alert(1)//>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<!-- <img src=x onerror=alert(1)> -->",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
    "<?php <img src=x onerror=alert(1)> ?>",
    "<!DOCTYPE html><img src=x onerror=alert(1)>",
    "</p><img src=x onerror=alert(1)>",
    "<pre>\n<img src=x onerror=alert(1)>\n</pre>",
    "<div\nonclick=alert(1)>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
]
LINE_BREAKS = ["\n", "\n\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0c", "\v", "\x1c"]
FENCES = [ticks * n for ticks in "`~" for n in (1, 2, 3, 4, 5, 8)]
CONTAINERS = ["> ", ">", "- ", "* ", "+ ", "1. ", "2) ", "10. ", "- [x] ", "- [ ] "]
INDENTS = ["   ", "    ", "\t", " ", "\u00a0", "\u200b", "\x00"]
TABLE_BITS = ["| ", " |", "|", "\\|", "|---|---|", "| --- |", ":-:", "`a\\|b`", "`\\`"]
BLOCK_BITS = ["---", "===", "***", "#", "# ", "~", "~~~~"]
LINK_BITS = ["[", "]", "(", ")", "![", "](", "]: ", "[r]", "[r]: ", "[a\\]]", "[\\[x]", "[x]"]
LINK_BITS += ["[ ]", "](javascript:alert(1))", "<http://x.example>", "<javascript:alert(1)>"]
INLINE_BITS = ["<", ">", '"', "'", "`", "``", "\\", "\\\\", "*", "_", "**", "__", "~~", "!"]
INLINE_BITS += ["$", "$$", "*a `x*", "<a@b.example>"]
ENTITIES = ["&#106;", "&#x6A;", "&colon;", "&lt;", "&gt;", "&amp;", "&#60;", "&Tab;"]
WORDS = ["__init__", "C:\\temp\\*", "www.evil.example", "WWW.x.example", "a@b.example", "x"]
WORDS += ["alert(1)", "https://", "http://x.example/", "ftp://x.example/", "HTTP://X.EXAMPLE/"]
# Math delimiters and TeX: a formula is written back as `$…$`/`$$…$$` and must hide nothing.
MATH_BITS = ["$", "$$", "\\(", "\\)", "\\[", "\\]", "$$\n", "\n$$", "%", "\\", "\\$", "5$"]
MATH_BITS += ["\\href{javascript:alert(1)}{x}", "\\frac{a}{b}", "x_1", "a < b", "]("]
BITS = [
    *LINE_BREAKS,
    *MATH_BITS,
    *FENCES,
    *RAW_HTML,
    *CONTAINERS,
    *INDENTS,
    *TABLE_BITS,
    *BLOCK_BITS,
    *LINK_BITS,
    *INLINE_BITS,
    *ENTITIES,
    *WORDS,
]


def _link(url: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            f"[t]({url})",
            f"[t](<{url}>)",
            f'[t]({url} "title")',
            f"![i]({url})",
            f"![i](<{url}>)",
            f"<{url}>",
            f"[t][r]\n\n[r]: {url}",
            f"[r]\n\n[r]: <{url}>",
            f"![i][r]\n\n[r]: {url}",
            f"[a\\]]\n\n[a\\]]: {url}",
            f"- [t][q]\n\n  [q]: {url}",
            f"> [t][q]\n>\n> [q]: {url}",
            f"[t `a](x)` b]({url})",
            f"[``a`]({url})``](https://ok.example)",
        ]
    )


urls = st.sampled_from(SCRIPT_URLS)
links = urls.flatmap(_link)
payloads = st.one_of(st.sampled_from(RAW_HTML), links)
code_spans = st.builds(
    lambda ticks, body, close: ticks + body + close,
    st.sampled_from(["`", "``", "```", "````"]),
    st.lists(st.one_of(payloads, st.sampled_from(BITS)), max_size=4).map("".join),
    st.sampled_from(["`", "``", "```", " `", "` ", ""]),
)
fenced = st.builds(
    lambda indent, fence, info, body, close: f"{indent}{fence}{info}\n{body}\n{close}",
    st.sampled_from(["", " ", "   ", "    ", "\t"]),
    st.sampled_from(["```", "~~~", "````", "~~~~~", "``"]),
    st.sampled_from(["", "python", "py x", "`x`", "<img src=x onerror=alert(1)>", "~~~", "``"]),
    st.lists(st.one_of(payloads, st.sampled_from(BITS)), max_size=6).map("".join),
    st.sampled_from(["```", "~~~", "````", "  ```", "    ```", "```~", "~~~ x", "", "`````"]),
)
formulas = st.builds(
    lambda opening, body, closing: opening + body + closing,
    st.sampled_from(["$", "$$", "\\(", "\\[", "$$\n", " $$"]),
    st.lists(st.one_of(payloads, st.sampled_from(BITS)), max_size=4).map("".join),
    st.sampled_from(["$", "$$", "\\)", "\\]", "\n$$", "$$\n", "$5"]),
)
tables = st.builds(
    lambda cells, rows: (
        "| a | b |\n|---|---|\n"
        + "\n".join(f"| {cells[i % len(cells)]} | {cells[-1]} |" for i in range(rows))
    ),
    st.lists(
        st.one_of(code_spans, formulas, payloads, st.sampled_from(BITS)), min_size=1, max_size=3
    ),
    st.integers(1, 3),
)
leaves = st.one_of(
    payloads, code_spans, formulas, fenced, tables, st.sampled_from(BITS), st.text(max_size=4)
)


def _contained(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A block put inside a quote or list item, its lines prefixed as a writer would."""
    return st.builds(
        lambda prefix, body: prefix + body.replace("\n", "\n" + " " * len(prefix)),
        st.sampled_from(["> ", "- ", "1. ", "* ", ">", "   - "]),
        inner,
    ) | st.builds(lambda body: "> " + body.replace("\n", "\n> "), inner)


# Flat runs of fragments: adjacency (a URL before a link, `!` before `[`, a backslash before
# a backtick) matters as much as nesting.
soup = st.lists(st.one_of(st.sampled_from(BITS), links, code_spans, formulas), max_size=14).map(
    "".join
)
documents = st.recursive(
    leaves | soup,
    lambda inner: st.one_of(
        _contained(inner),
        st.lists(inner, min_size=2, max_size=5).map("".join),
        st.builds(lambda a, br, b: a + br + b, inner, st.sampled_from(LINE_BREAKS), inner),
    ),
    max_leaves=12,
)


def _reply(text: str, other: str = "") -> Reply:
    return Reply(
        text=text,
        status="error" if other else "done",
        model="m",
        messages=[],
        notice=other,
        refusal=other,
        error={"title": other, "message": other, "hint": ""} if other else None,
    )


def _assert_inert(reply: Reply) -> None:
    copy = to_markdown(reply)
    rendered = {"marked": marked().render(copy), "markdown-it": MARKDOWN_IT_HTML.render(copy)}
    for renderer, html in rendered.items():
        found = violations(html)
        assert not found, f"{renderer} made {found} of the copy {copy!r}"


@PROFILE
@given(documents)
def test_hostile_answers_stay_inert_in_the_markdown_copy(text):
    _assert_inert(_reply(text))


@PROFILE
@given(st.lists(st.one_of(payloads, st.sampled_from(BITS)), max_size=8).map("".join))
def test_hostile_notices_refusals_and_errors_stay_text(other):
    _assert_inert(_reply("answer", other))


@pytest.mark.parametrize("text", CORPUS + OLD_CORPUS)
def test_known_hostile_answers_stay_inert(text):
    _assert_inert(_reply(text))
    _assert_inert(_reply("answer", text))
