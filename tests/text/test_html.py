"""Editor HTML to plain text, including hostile and broken input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.html import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello&nbsp;<b>world</b></p><p>Second</p>", "Hello world\n\nSecond"),
        ("a<br>b<br/>c", "a\n\nb\n\nc"),
        ("<h2>Title</h2><div>Body <i>text</i></div>", "Title\n\nBody text"),
        ("<ul><li>one</li><li>two</li></ul>tail", "one\n\ntwo\n\ntail"),
        ("<p>line one\n   line   two</p>", "line one line two"),
        ("Plain text.\n\nSecond paragraph.", "Plain text.\n\nSecond paragraph."),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
        ("It&#8217;s &quot;fine&quot; &amp; well", 'It’s "fine" & well'),
        ("", ""),
        ("   ", ""),
        ("<p> </p><br><br>", ""),
    ],
)
def test_structure_and_entities(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>Text",
        "<style>p{color:red}</style>Text",
        "<iframe src='https://x'>frame text</iframe>Text",
        "<figure><img src=x><figcaption>Photo: AP</figcaption></figure>Text",
        "<noscript>enable js</noscript>Text<!-- a comment -->",
    ],
)
def test_hidden_contents_are_dropped(html: str) -> None:
    assert html_to_text(html) == "Text"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("It&amp;#8217;s", "It’s"),
        ("&lt;p&gt;Escaped &lt;b&gt;markup&lt;/b&gt;&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;", None),
    ],
)
def test_double_encoded_input(html: str, text: str | None) -> None:
    assert html_to_text(html) == (text or "Escaped markup\n\nTwo")


@pytest.mark.parametrize(
    "html",
    [
        "<p>unclosed <b>bold <i>italic",
        "<script>never closed alert(1)",
        "&lt;script&gt;alert(1)&lt;/script&gt;visible",
        "<scr<script>ipt>alert(1)</script>",
        "&lt;scr&lt;script&gt;ipt&gt;",
        "<?xml version='1.0' encoding='utf-8'?><p>declared</p>",
        "<![CDATA[x]]>",
        "a\x00b\x07c\ud800d\ufeffe",
    ],
)
def test_broken_input_gives_safe_text(html: str) -> None:
    text = html_to_text(html)
    assert "<script" not in text.lower()
    assert not any(ord(char) < 32 and char != "\n" for char in text)
    assert not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def test_controls_and_surrogates_are_removed_not_the_text() -> None:
    assert html_to_text("a\x00b\x07c\ud800d\ufeffe\u00adf") == "abcdef"
    assert html_to_text("<?xml version='1.0' encoding='utf-8'?><p>declared</p>") == "declared"


@pytest.mark.parametrize(
    "html",
    ["<" * 50_000, "<a " * 20_000, "<!--" * 20_000, "<a" * 30_000, "<?" * 20_000, "&#" * 20_000],
)
def test_pathological_input_is_fast(html: str) -> None:
    started = time.perf_counter()
    html_to_text(html)
    assert time.perf_counter() - started < 0.5


_HOSTILE_PIECES = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<scr",
        "ipt>",
        "&lt;script&gt;",
        "&amp;lt;script&amp;gt;",
        "<p>",
        "</p",
        "<!--",
        "-->",
        "<![CDATA[",
        "<style>",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "\x00",
        "\ud800",
        "<",
        ">",
        "<iframe",
        "SCRIPT",
        "<SCRIPT>",
        "x" * 5000,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HOSTILE_PIECES, st.text(max_size=20)), max_size=30))
def test_hostile_html_never_raises_and_never_carries_script(pieces: list[str]) -> None:
    text = html_to_text("".join(pieces))
    assert isinstance(text, str)
    assert "<script" not in text.lower()
    assert text == text.strip()
    assert "\x00" not in text


@given(st.text())
def test_any_text_never_raises(raw: str) -> None:
    assert "<script" not in html_to_text(raw).lower()
