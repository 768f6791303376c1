"""Telegram HTML parse mode: what parses, into which text and entities, and what is refused."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text.utf16 import utf16_len
from tests.fakes.html_rules import (
    TELEGRAM_TEXT_LIMIT,
    Entity,
    TelegramHTMLError,
    parse_telegram_html,
)


def test_text_without_markup_is_returned_unchanged() -> None:
    assert parse_telegram_html("Tbilisi > Yerevan, 2 + 2") == ("Tbilisi > Yerevan, 2 + 2", [])


def test_basic_tags_and_their_aliases() -> None:
    source = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>"
        "<s>s</s><strike>k</strike><del>d</del>"
    )
    text, entities = parse_telegram_html(source)
    assert text == "bsieunskd"
    assert [e.type for e in entities] == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
    ]
    assert [e.offset for e in entities] == list(range(9))
    assert all(e.length == 1 for e in entities)


def test_offsets_are_counted_in_utf16_units() -> None:
    text, entities = parse_telegram_html("😀 ქართული <b>Երևան</b>")
    assert text == "😀 ქართული Երևան"
    assert entities == [Entity("bold", 11, 5)]
    assert utf16_len(text) == 16


def test_allowed_entities_are_decoded() -> None:
    text, entities = parse_telegram_html("&lt;tag&gt; &amp; &quot;q&quot; &#39; &#x1F600; &#1329;")
    assert text == '<tag> & "q" \' 😀 Ա'
    assert entities == []


def test_links_spoilers_quotes_emoji_and_code() -> None:
    source = (
        '<a href="https://jam-news.net/?a=1&amp;b=2">Read</a> '
        '<span class="tg-spoiler">s1</span><tg-spoiler>s2</tg-spoiler> '
        "<blockquote>q</blockquote><blockquote expandable>long</blockquote> "
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        '<code>x</code> <pre><code class="language-python">print(1)</code></pre>'
    )
    text, entities = parse_telegram_html(source)
    assert text == "Read s1s2 qlong 👍 x print(1)"
    assert entities == [
        Entity("text_link", 0, 4, url="https://jam-news.net/?a=1&b=2"),
        Entity("spoiler", 5, 2),
        Entity("spoiler", 7, 2),
        Entity("blockquote", 10, 1),
        Entity("expandable_blockquote", 11, 4),
        Entity("custom_emoji", 16, 2, custom_emoji_id="5368324170671202286"),
        Entity("code", 19, 1),
        Entity("pre", 21, 8, language="python"),
    ]


def test_nesting_allowed_by_the_bot_api() -> None:
    text, entities = parse_telegram_html(
        "<b>bold <i>both <a href='https://x.org'>link <u>u</u></a></i></b>"
    )
    assert text == "bold both link u"
    assert entities == [
        Entity("bold", 0, 16),
        Entity("italic", 5, 11),
        Entity("text_link", 10, 6, url="https://x.org"),
        Entity("underline", 15, 1),
    ]


def test_lenient_forms_telegram_accepts() -> None:
    text, entities = parse_telegram_html("<B>x</B > <a href=HTTPS-X.ORG title='t'>y</a><b></b>")
    assert text == "x y"
    # Unquoted values are lower-cased like Telegram does; empty entities vanish.
    assert entities == [Entity("bold", 0, 1), Entity("text_link", 2, 1, url="https-x.org")]


def test_link_without_href_keeps_only_the_text() -> None:
    assert parse_telegram_html("<a>plain</a>") == ("plain", [])


def test_length_is_counted_after_parsing() -> None:
    body = "я" * TELEGRAM_TEXT_LIMIT
    text, _ = parse_telegram_html(f"<b>{body}</b>")
    assert utf16_len(text) == TELEGRAM_TEXT_LIMIT
    assert utf16_len("😀" * 2048) == TELEGRAM_TEXT_LIMIT


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<p>para</p>", 'Unsupported start tag "p"'),
        ("Привет <p>", "at byte offset 13"),
        ("a < b", 'Unsupported start tag ""'),
        ("ends with <", "Unclosed start tag"),
        ("<b", "Unclosed start tag"),
        ("<a href='x>y</a>", "Unclosed start tag"),
        ("AT&T", "Character '&' at byte offset 2"),
        ("a &nbsp; b", 'Unsupported HTML entity "&nbsp;"'),
        ("&amp without semicolon", "Character '&'"),
        ("&#0;", "Invalid character reference"),
        ("&#xD800;", "Invalid character reference"),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("stray</b>", "Unexpected end tag"),
        ("<b>x</b", "Unclosed end tag"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<span class="hidden">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier"),
        ('<a href="x" disabled>y</a>', "Expected equal sign"),
        ("<code><b>x</b></code>", 'Entity "bold" can\'t be nested in "code"'),
        ("<pre>a<i>b</i></pre>", 'Entity "italic" can\'t be nested in "pre"'),
        ("<a href='https://a'><code>x</code></a>", 'Entity "code" can\'t be nested in "text_link"'),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "can't be nested"),
        ('<a href="a&b">x</a>', "Character '&' in the tag"),
    ],
)
def test_invalid_html_is_rejected_with_telegram_wording(source: str, detail: str) -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        parse_telegram_html(source)
    message = str(caught.value)
    assert message.startswith("Can't parse entities: ")
    assert detail in message


@given(st.text())
def test_any_escaped_text_parses_back_to_itself(raw: str) -> None:
    text, entities = parse_telegram_html(html.escape(raw))
    assert text == raw
    assert entities == []


@given(st.text(min_size=1), st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler"]))
def test_escaped_text_inside_one_tag_spans_all_of_it(raw: str, tag: str) -> None:
    text, entities = parse_telegram_html(f"<{tag}>{html.escape(raw)}</{tag}>")
    assert text == raw
    assert len(entities) == 1
    assert (entities[0].offset, entities[0].length) == (0, utf16_len(raw))


def test_lone_surrogates_do_not_crash_the_parser() -> None:
    text, entities = parse_telegram_html("<b>\ud800</b>")
    assert (text, entities) == ("\ud800", [Entity("bold", 0, 1)])
