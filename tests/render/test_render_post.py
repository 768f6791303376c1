"""Posts: layout, escaping, links, shortening order and Telegram's limits on hostile input."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest

from bot.domain import Button, RenderedMessage
from bot.outbox.clean import hashtag, shorten, visible_text
from bot.outbox.render import CAPTION_LIMIT, MESSAGE_LIMIT, render_post
from bot.text.utf16 import utf16_len
from tests.render.strict_html import parse_strict

READ_MORE = Button(text="Read more", url="https://example.org/r/abc")
DONATE = Button(text="Support us", url="https://example.org/support")

GEORGIAN = "საქართველოს პარლამენტმა ახალი კანონი მიიღო. ოპოზიცია პროტესტს აცხადებს! "
ARMENIAN = "Հայաստանի կառավարությունը հաստատեց նոր ծրագիրը։ Ընդդիմությունը դեմ է։ "
HOSTILE_TITLES = {
    "script": "<script>alert('x')</script> & <b>",
    "ampersands": "Tom & Jerry &amp; &lt;co&gt; &#0; &",
    "unclosed": "<b unclosed <a href='x'",
    "quotes": "He said \"no\" 'twice'",
    "emoji": "👩‍👩‍👧‍👦 Family 🇬🇪🇦🇲 flags 👍🏽 skin",
    "rtl": "\u202eevil override\u202c and \u200fmark\u200e العربية",
    "controls": "a\x00b\x07c\x1bd\x7fe\x85f\u2028g\ufeffh\ud800i",
    "long": "Word " * 60,
    "unbroken": "x" * 300,
    "georgian": GEORGIAN,
    "armenian": ARMENIAN,
    "blank": " \n\t ",
}
HOSTILE_SUMMARIES = {
    **HOSTILE_TITLES,
    "5000": ("Sentence number one is here. " * 200)[:5000],
    "20000": "ա" * 20000,
    "20000-emoji": "👩‍👩‍👧‍👦🇬🇪" * 2000,
    "georgian-long": GEORGIAN * 80,
    "armenian-long": ARMENIAN * 80,
}
URLS = [
    "https://example.org/news/1",
    'https://example.org/a"b<c>d',
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<b>x</b>",
    "/relative/path",
    "",
    "https://",
    "http://exa mple.org/",
    "https://jam-news.net/ru/статья/",
]


def _render(
    title: str,
    summary: str,
    url: str = "https://example.org/news/1",
    *,
    tags: Sequence[str] = ("georgia", "abkhazia"),
    limit: int = MESSAGE_LIMIT,
    breaking: bool = False,
) -> RenderedMessage:
    return render_post(
        title=title,
        url=url,
        summary=summary,
        hashtags=tags,
        read_more=READ_MORE,
        extra_buttons=[[DONATE]],
        limit=limit,
        breaking=breaking,
    )


def _assert_valid(message: RenderedMessage, limit: int) -> str:
    parsed = parse_strict(message.text)
    assert parsed.utf16_length <= limit
    assert parsed.plain == visible_text(message.text)
    for row in message.buttons:
        assert 1 <= len(row) <= 8
        for button in row:
            assert button.text.strip()
            assert (button.url is None) != (button.callback_data is None)
    return parsed.plain


def test_layout() -> None:
    message = _render("Title", "Summary.", tags=("georgia", "abkhazia"))
    assert message.text == (
        '<b><a href="https://example.org/news/1">Title</a></b>\n\nSummary.\n\n#georgia #abkhazia'
    )
    assert message.buttons == ((READ_MORE,), (DONATE,))


@pytest.mark.parametrize(
    ("title_key", "summary_key", "limit"),
    [
        (t, s, limit)
        for (t, s), limit in itertools.product(
            itertools.product(HOSTILE_TITLES, HOSTILE_SUMMARIES), (MESSAGE_LIMIT, CAPTION_LIMIT)
        )
    ],
)
def test_hostile_input_stays_valid_and_within_limit(
    title_key: str, summary_key: str, limit: int
) -> None:
    message = _render(HOSTILE_TITLES[title_key], HOSTILE_SUMMARIES[summary_key], limit=limit)
    _assert_valid(message, limit)


@pytest.mark.parametrize("url", URLS)
def test_any_url_stays_valid(url: str) -> None:
    message = _render(HOSTILE_TITLES["script"], HOSTILE_SUMMARIES["5000"], url, limit=CAPTION_LIMIT)
    _assert_valid(message, CAPTION_LIMIT)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/rel", "", "https://"],
)
def test_non_http_url_gives_no_link_and_no_read_more(url: str) -> None:
    message = _render("Title", "Summary.", url)
    assert "<a" not in message.text
    assert message.text.startswith("<b>Title</b>")
    assert message.buttons == ((DONATE,),)


def test_quotes_in_url_cannot_break_the_attribute() -> None:
    message = _render("Title", "Summary.", 'https://example.org/a"onmouseover="x')
    href = re.search(r'href="([^"]*)"', message.text)
    assert href is not None
    assert href.group(1) == "https://example.org/a%22onmouseover=%22x"
    _assert_valid(message, MESSAGE_LIMIT)


def test_outside_text_is_escaped_not_interpreted() -> None:
    message = _render("<script>x</script> & co", "<b>bold?</b> a&b", tags=["<i>"])
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in message.text
    assert "&lt;b&gt;bold?&lt;/b&gt; a&amp;b" in message.text
    assert message.text.endswith("#i")
    assert parse_strict(message.text).entities == 2


def test_control_characters_and_bidi_overrides_are_removed() -> None:
    plain = _assert_valid(_render(HOSTILE_TITLES["controls"], HOSTILE_TITLES["rtl"]), 4096)
    assert plain.startswith("abcde f ghi\n\n")
    assert "\u202e" not in plain
    assert "\u202c" not in plain
    assert "\u200f" in plain  # plain direction marks are legitimate in RTL text


def test_blank_title_falls_back_to_the_link() -> None:
    plain = _assert_valid(_render("  ", "Summary."), 4096)
    assert plain.startswith("https://example.org/news/1\n\n")


def test_long_summary_is_cut_after_a_sentence() -> None:
    summary = "First sentence is here. Second one follows! Third is a question? " * 20
    message = _render("Title", summary, limit=300)
    plain = _assert_valid(message, 300)
    shown = plain.split("\n\n")[1]
    assert summary.startswith(shown)
    assert shown[-1] in ".!?"
    assert utf16_len(plain) > 200


def test_summary_without_sentences_is_cut_on_a_word_with_ellipsis() -> None:
    words = " ".join(f"word{i}" for i in range(500))
    plain = _assert_valid(_render("Title", words, limit=CAPTION_LIMIT), CAPTION_LIMIT)
    shown = plain.split("\n\n")[1]
    assert shown.endswith("…")
    kept = shown[:-1]
    assert words.startswith(kept)
    assert words[len(kept)] == " "


def test_georgian_and_armenian_summaries_are_cut_on_their_own_sentence_marks() -> None:
    for text, marks in ((GEORGIAN * 80, ".!"), (ARMENIAN * 80, "։")):
        plain = _assert_valid(_render("Title", text, limit=CAPTION_LIMIT), CAPTION_LIMIT)
        shown = plain.split("\n\n")[1]
        assert shown[-1] in marks
        assert text.startswith(shown)


def test_title_is_shortened_only_after_the_summary_is_gone() -> None:
    title = "Headline " * 40  # 360 units
    message = _render(title, "A summary that will have to go entirely.", limit=200)
    plain = _assert_valid(message, 200)
    shown_title, tags = plain.split("\n\n")
    assert shown_title.endswith("…")
    assert title.startswith(shown_title[:-1])
    assert tags == "#georgia #abkhazia"


def test_tiny_limit_keeps_a_non_empty_valid_post() -> None:
    for limit in (1, 2, 5, 25):
        message = _render("A rather long title about something", "Summary.", limit=limit)
        plain = _assert_valid(message, limit)
        assert plain


def test_breaking_prefix_is_counted() -> None:
    message = _render("x" * 500, "", limit=100, breaking=True)
    plain = _assert_valid(message, 100)
    assert plain.startswith("🔴 ")


def test_invalid_extra_buttons_are_dropped() -> None:
    message = render_post(
        title="T",
        url="https://example.org/1",
        summary="",
        hashtags=(),
        read_more=Button(text="Read\x00 more", url="https://example.org/r"),
        extra_buttons=[
            [Button(text="bad", url="javascript:x"), Button(text="ok", callback_data="d:1")],
            [Button(text="long", callback_data="x" * 65), Button(text="", url="https://x.org")],
            [Button(text="both", url="https://x.org", callback_data="y")],
        ],
    )
    assert message.buttons == (
        (Button(text="Read more", url="https://example.org/r"),),
        (Button(text="ok", callback_data="d:1"),),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("georgia", "#georgia"),
        ("south_ossetia", "#south_ossetia"),
        ("South Ossetia", "#South_Ossetia"),
        ("Nagorno-Karabakh", "#Nagorno_Karabakh"),
        ("Нагорный Карабах", "#Нагорный_Карабах"),
        ("საქართველო", "#საქართველო"),
        ("Հայաստան", "#Հայաստան"),
        ("  <b>&amp;  ", "#b_amp"),
        ("2024", ""),
        ("😀", ""),
        ("", ""),
        ("__x__", "#x"),
    ],
)
def test_hashtag(raw: str, expected: str) -> None:
    assert hashtag(raw) == expected


def test_hashtags_are_deduplicated_and_empty_ones_dropped() -> None:
    message = _render("T", "", tags=["georgia", "Georgia", "", "123", "abkhazia"])
    assert message.text.endswith("\n\n#georgia #abkhazia")


@pytest.mark.parametrize(
    "text",
    ["👩‍👩‍👧‍👦" * 10, "🇬🇪🇦🇲" * 10, "👍🏽" * 10, "é" * 30, "😀" * 30],
)
def test_shorten_never_splits_a_visible_character(text: str) -> None:
    for units in range(1, 25):
        cut = shorten(text, units)
        assert utf16_len(cut) <= units
        kept = cut.removesuffix("…")
        assert text.startswith(kept)
        rest = text[len(kept) :]
        assert rest == "" or rest.startswith(text[:1]) or rest[0] in "👩🇬🇦👍e😀"


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("a😀ა") == 4


def test_against_bot_api_rules() -> None:
    rules = pytest.importorskip("tests.fakes.html_rules")
    for title, summary in itertools.product(HOSTILE_TITLES.values(), HOSTILE_SUMMARIES.values()):
        for limit in (MESSAGE_LIMIT, CAPTION_LIMIT):
            message = _render(title, summary, limit=limit)
            plain, _entities = rules.parse_telegram_html(message.text)
            assert utf16_len(plain) <= limit


def test_summary_is_dropped_rather_than_left_as_a_stub() -> None:
    title = "Headline " * 16  # 143 units after cleaning
    plain = _assert_valid(_render(title, "Some summary sentence. " * 10, limit=200), 200)
    assert plain == title.strip() + "\n\n#georgia #abkhazia"


def test_url_scheme_is_normalised_to_lower_case() -> None:
    message = _render("Title", "", "HTTPS://Example.org/A")
    assert message.text.startswith('<b><a href="https://Example.org/A">')
    assert message.buttons[0][0].url == "https://example.org/r/abc"
