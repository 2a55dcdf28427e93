"""The static copy's Markdown keeps formatting but carries no live HTML or script URLs."""

from __future__ import annotations

import pytest

from streamchat_widget.safe_markdown import neutralize


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
    assert "<img" not in neutralize(hostile)
    assert "<svg" not in neutralize(hostile)
    assert "<script" not in neutralize(hostile)
    assert "<iframe" not in neutralize(hostile)


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
    out = neutralize(link)
    assert "javascript:" not in out.lower()
    assert "&#106;avascript" not in out
    assert "vbscript:" not in out
    assert "data:text" not in out
    assert "click" in out or "img" in out


def test_safe_links_and_formatting_are_kept():
    text = (
        "# Title\n\n- a **b**\n- [docs](https://example.org/x?a=1)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert neutralize(text) == text


def test_fenced_code_is_untouched_and_keeps_its_language():
    text = "Before\n\n```python\nif a < b:\n    print('<b>')\n```\n\nafter <b>"
    assert neutralize(text) == (
        "Before\n\n```python\nif a < b:\n    print('<b>')\n```\n\nafter &lt;b>"
    )


def test_a_fence_info_string_cannot_inject_markup():
    out = neutralize("```<img src=x onerror=alert(1)>\ncode\n```")
    assert "<img" not in out


def test_inline_code_becomes_escaped_code_element():
    assert neutralize("use `List<String>` here") == "use <code>List&lt;String&gt;</code> here"


def test_unclosed_fence_stays_code_to_the_end():
    assert neutralize("```\n<b>x</b>") == "```\n<b>x</b>"
