"""The static copy's Markdown keeps formatting but carries no live HTML or script URLs."""

from __future__ import annotations

import time

import pytest

from streamchat_widget.answer import Reply
from streamchat_widget.markdown_copy import PARSE_LIMIT, inert_markdown, inert_text
from streamchat_widget.static_copy import to_markdown
from tests.renderers import MARKDOWN_IT_HTML, marked, violations


def _renders(markdown: str) -> list[str]:
    return [marked().render(markdown), MARKDOWN_IT_HTML.render(markdown)]


@pytest.mark.parametrize(
    "hostile",
    [
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<script>alert(1)</script>",
        "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        "<!-- x --><img src=x onerror=alert(1)>",
        "\\`<img src=x onerror=alert(1)>\\`",
        "    `\n<img src=x onerror=alert(1)>\n`",
        "| `a | <img src=x onerror=alert(1)> | b` |\n|---|---|---|",
    ],
)
def test_no_raw_tag_survives(hostile):
    for html in _renders(inert_markdown(hostile)):
        assert violations(html) == []
        assert "&lt;" in html  # the tag is shown as text


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[click]( JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](java&#x09;script:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![img](javascript:alert(1))",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_script_links_are_disarmed(link):
    for html in _renders(inert_markdown(link)):
        assert violations(html) == []
        assert "<a " not in html
        assert "click" in html or "img" in html


def test_safe_links_and_formatting_are_kept():
    text = (
        "# Title\n\n- a **b**\n- [docs](https://example.org/x?a=1)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert inert_markdown(text) == (
        "# Title\n\n- a **b**\n- [docs](<https://example.org/x?a=1>)\n\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |"
    )


def test_fenced_code_is_untouched_and_keeps_its_language():
    text = "Before\n\n```python\nif a < b:\n    print('<b>')\n```\n\nafter <b>"
    assert inert_markdown(text) == (
        "Before\n\n```python\nif a < b:\n    print('<b>')\n```\n\nafter &lt;b&gt;"
    )


def test_a_fence_info_string_cannot_inject_markup():
    assert inert_markdown("```<img src=x onerror=alert(1)>\ncode\n```") == "```text\ncode\n```"


def test_inline_code_stays_a_verbatim_code_span():
    assert inert_markdown("use `List<String>` here") == "use `List<String>` here"
    assert inert_markdown("`__init__`, `C:\\temp\\*` and `` `\\\\` ``") == (
        "`__init__`, `C:\\temp\\*` and `` `\\\\` ``"
    )


def test_a_code_span_is_delimited_by_more_backticks_than_it_holds():
    assert inert_markdown("```` a```b ````") == "````a```b````"
    assert inert_markdown("`` `x ``") == "`` `x ``"


def test_markdown_inside_a_code_span_is_not_parsed():
    for html in _renders(inert_markdown("Call `[open](javascript:alert(1))` to continue.")):
        assert "<code>[open](javascript:alert(1))</code>" in html
        assert "<a " not in html


def test_unclosed_fence_stays_code_to_the_end():
    assert inert_markdown("```\n<b>x</b>") == "```text\n<b>x</b>\n```"


def test_a_fence_is_longer_than_any_backtick_run_inside():
    assert inert_markdown("~~~\n```\n<b>\n~~~") == "````text\n```\n<b>\n````"


def test_unicode_line_breaks_are_not_fence_lines():
    # CommonMark ends lines only at \n and \r: U+2028, \x0c and \x85 stay inside the fence.
    text = "```\nx\u2028```\x0c```\x85```\n<img src=x onerror=alert(1)>\n"
    assert inert_markdown(text) == f"````text\n{text[4:-1]}\n````"


def test_a_fence_inside_a_list_item_stays_in_the_item():
    text = "1. a\n\n   ```py\n   x < 1\n   ```\n2. b"
    assert inert_markdown(text) == "1. a\n\n   ```py\n   x < 1\n   ```\n\n2. b"


def test_indented_code_becomes_a_fence_and_keeps_its_text():
    assert inert_markdown("x\n\n    <b>x</b>\n") == "x\n\n```text\n<b>x</b>\n```"


def test_task_lists_keep_their_checked_state():
    # As ☑/☐ text, as the live view and the saved HTML show them, in any renderer.
    assert inert_markdown("- [x] done\n- [ ] todo\n- [X] too") == "- ☑ done\n- ☐ todo\n- ☑ too"


def test_a_remote_image_becomes_a_link_and_a_data_image_stays():
    text = "![chart](https://evil.example/c.png?q=1) ![dot](data:image/png;base64,AAAA)"
    assert inert_markdown(text) == (
        "[chart](<https://evil.example/c.png?q=1>) ![dot](<data:image/png;base64,AAAA>)"
    )


def test_a_remote_image_without_alt_text_shows_its_url():
    assert inert_markdown("![](https://x.example/a.png)") == (
        "[https\\://x.example/a.png](<https://x.example/a.png>)"
    )


def test_an_image_of_another_scheme_is_its_alt_text_or_its_url():
    assert inert_markdown("a\n![](ftp://x.example/i.png)\nb ![alt](ftp://x.example/i.png)") == (
        "a\nftp\\://x.example/i.png\nb alt"
    )


def test_reference_definitions_in_containers_are_resolved_or_text():
    text = "> [t][r]\n>\n> [r]: javascript:alert(1)\n\n- [u][s]\n\n  [s]: https://ok.example"
    assert inert_markdown(text) == (
        "> \\[t\\]\\[r\\]\n>\n> \\[r\\]: javascript:alert\\(1\\)\n\n- [u](<https://ok.example>)"
    )


def test_bare_urls_become_links_and_never_swallow_escapes():
    assert inert_markdown('see https://x.example/a_b"<img src=x>') == (
        'see [https\\://x.example/a\\_b](<https://x.example/a\\_b>)"&lt;img src=x&gt;'
    )


def test_entities_and_raw_html_are_text():
    assert inert_markdown("&#106; &amp; <b>") == "j &amp; &lt;b&gt;"


def test_plain_text_is_escaped_line_by_line():
    assert inert_text("# not a heading\n1. not a list\n<img src=x>") == (
        "\\# not a heading\\\n1\\. not a list\\\n&lt;img src=x&gt;"
    )


def test_notice_refusal_error_and_footer_are_text_in_the_copy():
    hostile = "[x](javascript:alert(1)) <img src=x onerror=alert(1)> `a` *b*"
    reply = Reply(
        text="",
        status="error",
        model="<b>m</b>",
        messages=[],
        notice=hostile,
        refusal=hostile,
        error={"title": hostile, "message": hostile, "hint": ""},
    )
    for html in _renders(to_markdown(reply)):
        assert violations(html) == []
        assert "<a " not in html and "<code>" not in html
        assert html.count("[x](javascript:alert(1)) &lt;img src=x onerror=alert(1)&gt;") == 4


def _backtick_runs(size: int) -> str:
    """Audit S2: one line of backtick runs of distinct lengths."""
    runs, length = [], 1
    while sum(map(len, runs)) < size:
        runs.append("`" * length + "x")
        length = length % 400 + 1
    return "".join(runs)[:size]


def test_a_line_of_backtick_runs_costs_little():
    text = _backtick_runs(80_000)
    started = time.perf_counter()
    copy = inert_markdown(text)
    assert time.perf_counter() - started < 1.0
    assert violations(marked().render(copy)) == []


def test_an_answer_past_the_parse_limit_is_kept_as_its_source():
    text = ("<img src=x onerror=alert(1)>\n\n```\n" + "`" * 9 + "\r\n") * (PARSE_LIMIT // 40)
    started = time.perf_counter()
    copy = inert_markdown(text)
    assert time.perf_counter() - started < 1.0
    for html in _renders(copy):
        assert violations(html) == []
        assert html.count("<pre>") == 1
