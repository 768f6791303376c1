"""parse_feed: mapping onto FeedEntry, encodings, broken and hostile documents."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.parse import MAX_TTL_SECONDS, WARNING_PREFIX, is_failure, parse_feed
from tests.fakes.feedserver import ATOM_TYPE, RSS_TYPE, atom_feed, rss_feed, wordpress_feed

FEED_URL = "https://news.example/feed/"
RSS_HEADERS = {"Content-Type": RSS_TYPE}


def test_rss_items_map_to_entries() -> None:
    body = rss_feed(
        [
            {
                "title": "Tom &amp; Jerry <b>meet</b>",
                "link": "/2025/01/tom-and-jerry/",
                "guid": "tag:news.example,2025:1",
                "guid_is_permalink": False,
                "description": "<p>The <em>excerpt</em><script>alert(1)</script></p>",
                "content:encoded": "<p>The full text.</p>",
                "categories": ["Georgia", "Politics", "Georgia"],
                "pubDate": "Mon, 06 Jan 2025 14:00:00 +0400",
                "author": "Nino",
            }
        ],
        title="News &amp; views",
    )

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert parsed.error is None
    assert parsed.title == "News & views"
    assert parsed.link == "https://news.example/"
    [entry] = parsed.entries
    assert entry.guid == "tag:news.example,2025:1"
    assert entry.url == "https://news.example/2025/01/tom-and-jerry/"
    assert entry.title == "Tom & Jerry meet"
    assert "<em>excerpt</em>" in entry.summary_html
    assert "script" not in entry.summary_html
    assert entry.content_html == "<p>The full text.</p>"
    assert entry.categories == ("Georgia", "Politics")
    assert entry.published == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert entry.published is not None and entry.published.tzinfo is not None
    assert entry.author == "Nino"
    assert entry.wp_post_id is None


def test_plain_text_title_keeps_its_angle_brackets() -> None:
    body = atom_feed([{"id": "urn:1", "title": "a < b & c > d", "link": "https://news.example/1"}])

    parsed = parse_feed(body, {"Content-Type": ATOM_TYPE}, FEED_URL)

    assert parsed.entries[0].title == "a < b & c > d"


def test_summary_that_is_only_a_copy_of_the_content_is_dropped() -> None:
    body = rss_feed([{"title": "T", "link": "https://news.example/1", "content": "<p>Full</p>"}])

    [entry] = parse_feed(body, RSS_HEADERS, FEED_URL).entries

    assert entry.content_html == "<p>Full</p>"
    assert entry.summary_html == ""


def test_wordpress_feed_gives_post_ids_and_categories() -> None:
    body = wordpress_feed(
        [
            {"post_id": 501, "title": "First", "categories": ["Armenia", "Economy"]},
            {"post_id": 502, "title": "Second", "link": "https://news.example/second/"},
        ]
    )

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert [e.wp_post_id for e in parsed.entries] == [501, 502]
    assert parsed.entries[0].guid == "https://news.example/?p=501"
    assert parsed.entries[0].categories == ("Armenia", "Economy")
    assert parsed.entries[1].url == "https://news.example/second/"
    assert parsed.ttl_seconds is None  # sy:updatePeriod "hourly" is a WordPress default


def test_wordpress_com_post_id_element() -> None:
    body = rss_feed(
        [{"title": "T", "link": "https://news.example/t/", "guid": "urn:x:9", "post_id": 77}]
    )

    [entry] = parse_feed(body, RSS_HEADERS, FEED_URL).entries

    assert entry.wp_post_id == 77


@pytest.mark.parametrize(
    ("guid", "expected"),
    [
        ("https://news.example/?p=123", 123),
        ("https://news.example/?lang=ru&p=9", 9),
        ("https://news.example/?page=2", None),
        ("https://news.example/?p=12abc", None),
        ("https://news.example/article-123", None),
    ],
)
def test_wordpress_ids_only_from_real_p_parameters(guid: str, expected: int | None) -> None:
    body = rss_feed([{"title": "T", "link": "https://news.example/t/", "guid": guid}])

    [entry] = parse_feed(body, RSS_HEADERS, FEED_URL).entries

    assert entry.wp_post_id == expected


def test_atom_entry_with_translations() -> None:
    body = atom_feed(
        [
            {
                "id": "tag:news.example,2025:7",
                "title": "Hello",
                "alternates": [
                    ("ru", "https://news.example/ru/7"),
                    ("en", "https://news.example/en/7"),
                    ("hy", "/hy/7"),
                ],
                "updated": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                "published": datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
                "author": "Anna",
                "summary": "<p>s</p>",
                "content": "<p>c</p>",
                "categories": ["Azerbaijan"],
            }
        ],
        language="en",
    )

    parsed = parse_feed(body, {"Content-Type": ATOM_TYPE}, FEED_URL)

    assert parsed.error is None
    [entry] = parsed.entries
    assert entry.url == "https://news.example/en/7"
    assert entry.alternates == (
        ("ru", "https://news.example/ru/7"),
        ("hy", "https://news.example/hy/7"),
    )
    assert entry.updated == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert entry.published == datetime(2025, 1, 1, tzinfo=UTC)
    assert (entry.author, entry.summary_html, entry.content_html) == (
        "Anna",
        "<p>s</p>",
        "<p>c</p>",
    )
    assert entry.categories == ("Azerbaijan",)


def test_author_email_is_not_exposed() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <entry><id>urn:1</id><title>x</title><link href="https://news.example/1"/>
    <author><name>Bob</name><email>bob@news.example</email></author></entry></feed>"""

    [entry] = parse_feed(body, {"Content-Type": ATOM_TYPE}, FEED_URL).entries

    assert entry.author == "Bob"


def test_content_location_is_the_base_for_relative_links() -> None:
    body = rss_feed([{"title": "T", "link": "story"}])

    parsed = parse_feed(
        body, {"Content-Type": RSS_TYPE, "Content-Location": "/ru/index.xml"}, FEED_URL
    )

    assert parsed.entries[0].url == "https://news.example/ru/story"


def test_entries_without_link_or_guid_are_skipped() -> None:
    body = rss_feed(
        [
            {"title": "no link, no guid"},
            {"title": "script link", "link": "javascript:alert(1)"},
            {"title": "guid only", "guid": "urn:news:1", "guid_is_permalink": False},
            {"title": "link only", "link": "https://news.example/4"},
        ]
    )

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert [e.title for e in parsed.entries] == ["guid only", "link only"]
    assert parsed.entries[0].url == ""
    assert parsed.error is None


CYRILLIC = (
    '<rss version="2.0"><channel><title>Новости</title><item><title>Привет, мир</title>'
    "<link>https://news.example/ru/1</link></item></channel></rss>"
)


def test_windows_1251_declared_by_the_header() -> None:
    body = CYRILLIC.encode("cp1251")

    parsed = parse_feed(
        body, {"Content-Type": "application/rss+xml; charset=windows-1251"}, FEED_URL
    )

    assert parsed.error is None
    assert parsed.title == "Новости"
    assert parsed.entries[0].title == "Привет, мир"


def test_windows_1251_declared_by_the_xml_declaration() -> None:
    body = ('<?xml version="1.0" encoding="windows-1251"?>' + CYRILLIC).encode("cp1251")

    parsed = parse_feed(body, {"Content-Type": "application/rss+xml"}, FEED_URL)

    assert parsed.error is None
    assert parsed.entries[0].title == "Привет, мир"


@pytest.mark.parametrize(
    ("declaration", "encoding"),
    [("", "utf-8"), (' encoding="UTF-8"', "utf-8"), (' encoding="windows-1251"', "cp1251")],
)
def test_text_xml_without_a_charset_follows_the_xml_declaration(
    declaration: str, encoding: str
) -> None:
    """How a plain web server (and aiohttp's static files) label a ``.xml`` feed."""
    body = (f'<?xml version="1.0"{declaration}?>' + CYRILLIC).encode(encoding)

    parsed = parse_feed(body, {"Content-Type": "text/xml"}, FEED_URL)

    assert parsed.error is None
    assert parsed.entries[0].title == "Привет, мир"


def test_utf16_with_bom() -> None:
    body = ('<?xml version="1.0" encoding="utf-16"?>' + CYRILLIC).encode("utf-16")

    parsed = parse_feed(body, {"Content-Type": "application/xml"}, FEED_URL)

    assert parsed.entries[0].title == "Привет, мир"


def test_missing_content_type_is_not_a_warning() -> None:
    parsed = parse_feed(rss_feed([{"title": "T", "link": "https://news.example/1"}]), {}, FEED_URL)

    assert parsed.error is None and len(parsed.entries) == 1


def test_truncated_feed_keeps_what_it_could_read() -> None:
    body = rss_feed(
        [
            {"title": "First", "link": "https://news.example/1"},
            {"title": "Second", "link": "https://news.example/2"},
        ]
    )
    cut = body[: body.index(b"<title>Second")]

    parsed = parse_feed(cut, RSS_HEADERS, FEED_URL)

    assert parsed.entries[0].title == "First"
    assert parsed.error is not None and parsed.error.startswith(WARNING_PREFIX)
    assert not is_failure(parsed)


def test_malformed_xml_with_recoverable_items() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Broken & co</title>'
        b"<item><title>One <br></title><link>https://news.example/1</link></item>"
        b"</channel></rss>"
    )

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert [e.url for e in parsed.entries] == ["https://news.example/1"]
    assert parsed.error is not None and parsed.error.startswith(WARNING_PREFIX)


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_document(body: bytes) -> None:
    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert parsed.error == "empty document"
    assert parsed.entries == ()
    assert is_failure(parsed)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b"<!DOCTYPE html><html><head><title>Home</title></head>"
            b'<body><a href="/news">News</a><p>Hello<br></body></html>',
            "text/html; charset=utf-8",
        ),
        (b'<?xml version="1.0"?><html><head><title>x</title></head><body/></html>', "text/xml"),
        (b'{"items": []}', "application/json"),
        (bytes(range(256)) * 8, "application/octet-stream"),
    ],
)
def test_things_that_are_not_feeds(body: bytes, content_type: str) -> None:
    parsed = parse_feed(body, {"Content-Type": content_type}, FEED_URL)

    assert parsed.entries == ()
    assert parsed.error is not None and parsed.error.startswith("not a feed")
    assert is_failure(parsed)


def test_empty_channel_is_clean() -> None:
    parsed = parse_feed(rss_feed([], title="Quiet"), RSS_HEADERS, FEED_URL)

    assert (parsed.title, parsed.entries, parsed.error) == ("Quiet", (), None)


@pytest.mark.parametrize(
    ("ttl", "period", "frequency", "expected"),
    [
        (15, None, None, 900),
        (None, "hourly", 2, None),
        (None, "daily", None, None),
        (30, "weekly", None, 1800),
        (10**8, None, None, MAX_TTL_SECONDS),
        (0, None, None, None),
        (None, "sometimes", 1, None),
        (None, None, None, None),
    ],
)
def test_ttl_seconds(
    ttl: int | None, period: str | None, frequency: int | None, expected: int | None
) -> None:
    body = rss_feed([], ttl=ttl, update_period=period, update_frequency=frequency)

    assert parse_feed(body, RSS_HEADERS, FEED_URL).ttl_seconds == expected


def _billion_laughs(levels: int = 10) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        + "\n".join(entities)
        + f'\n]>\n<rss version="2.0"><channel><title>&lol{levels - 1};</title>'
        f"<item><title>&lol{levels - 1};</title><link>https://news.example/1</link></item>"
        "</channel></rss>"
    ).encode()


def _quadratic_blowup() -> bytes:
    """One flat 100 kB entity referenced 20 000 times: 2 GB if expanded."""
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{"a" * 100_000}">\n]>\n'
        f'<rss version="2.0"><channel><title>{"&a;" * 20_000}</title></channel></rss>'
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        _billion_laughs(),
        _billion_laughs().replace(b"\n", b""),
        _quadratic_blowup(),
        _quadratic_blowup().decode().replace("?>", ' encoding="utf-16"?>', 1).encode("utf-16"),
        _quadratic_blowup() + b"<![CDATA[ ]]>",
    ],
    ids=[
        "billion-laughs",
        "billion-laughs-one-line",
        "quadratic",
        "quadratic-utf16",
        "quadratic-then-cdata",
    ],
)
def test_entity_bombs_finish_fast_in_bounded_memory(body: bytes) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        parsed = parse_feed(body, RSS_HEADERS, FEED_URL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert time.monotonic() - started < 2.0
    assert peak < 50 * 1024 * 1024
    assert parsed.error is not None
    assert all(len(e.title) < 1000 for e in parsed.entries)
    assert len(parsed.title) < 1000


def test_small_internal_entities_still_work() -> None:
    body = b"""<!DOCTYPE rss [
  <!ENTITY id "tag:news.example,">
]>
<rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">&id;2025:1</guid><title>x</title></item>
</channel></rss>"""

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert parsed.error is None
    assert parsed.entries[0].guid == "tag:news.example,2025:1"


def test_external_entities_are_not_loaded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{secret.as_uri()}">\n]>\n'
        '<rss version="2.0"><channel><title>t &xxe;</title><item><title>&xxe;</title>'
        "<link>https://news.example/1</link></item></channel></rss>"
    ).encode()

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert "TOP-SECRET" not in parsed.title
    assert all("TOP-SECRET" not in entry.title for entry in parsed.entries)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["application/xml", "text/html", ""]))
def test_never_raises_on_arbitrary_bytes(body: bytes, content_type: str) -> None:
    parsed = parse_feed(body, {"Content-Type": content_type}, FEED_URL)

    assert parsed.error is None or isinstance(parsed.error, str)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='<>&;"/=!?[]abcdefghijklmnopqrstuvwxyz :#x0123456789', max_size=400))
def test_never_raises_on_markup_soup(soup: str) -> None:
    body = f'<rss version="2.0"><channel><item>{soup}</item></channel></rss>'.encode()

    parsed = parse_feed(body, RSS_HEADERS, FEED_URL)

    assert all(isinstance(entry.title, str) for entry in parsed.entries)
