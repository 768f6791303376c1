"""Canonical URLs and entry keys: many spellings of one article, one key."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import FeedEntry
from scheduler.identity import canonical_url, entry_key, fallback_key

ARTICLE = "https://news.example/2025/01/story"

SAME_ARTICLE = [
    "https://news.example/2025/01/story",
    "https://news.example/2025/01/story/",
    "HTTPS://NEWS.EXAMPLE/2025/01/story",
    "https://news.example:443/2025/01/story",
    "https://news.example./2025/01/story",
    "https://news.example/2025/01/story#comments",
    "https://news.example/2025/01/story?utm_source=telegram&utm_medium=social",
    "https://news.example/2025/01/story?UTM_Campaign=x",
    "https://news.example/2025/01/story?fbclid=IwAR0abc",
    "https://news.example/2025/01/story?gclid=1&yclid=2&_ga=3&ref=twitter",
    "https://news.example/2025/01/story?mc_cid=abc&mc_eid=def",
    "https://news.example/2025/01/story/amp",
    "https://news.example/2025/01/story/amp/",
    "https://news.example/2025/01/story?amp",
    "https://news.example/2025/01/story?amp=1",
    "https://news.example/2025/01/%73tory",
    "  https://news.example/2025/01/story  ",
]


@pytest.mark.parametrize("variant", SAME_ARTICLE)
def test_variants_of_one_article_share_a_canonical_url(variant: str) -> None:
    assert canonical_url(variant) == ARTICLE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://news.example:80/a", "http://news.example/a"),
        ("https://news.example:8443/a/", "https://news.example:8443/a"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/?b=2&a=1&c", "https://news.example/?a=1&b=2&c"),
        ("https://news.example/?p=123&utm_source=rss", "https://news.example/?p=123"),
        ("https://пример.рф/a", "https://xn--e1afmkfd.xn--p1ai/a"),
        (
            "https://news.example/новости",
            "https://news.example/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        ),
        ("https://news.example/%d0%bd", "https://news.example/%D0%BD"),
        ("https://news.example/a b", "https://news.example/a%20b"),
        ("https://[::1]:443/a", "https://[::1]/a"),
        ("tag:news.example,2025:1", "tag:news.example,2025:1"),
        ("not a url", "not a url"),
    ],
)
def test_canonical_url_table(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "other",
    [
        "https://news.example/2025/01/other-story",
        "http://news.example/2025/01/story",  # a scheme change is not assumed safe
        "https://news.example/2025/01/story?page=2",
        "https://news.example/2025/01/story?amp=story",  # not the AMP flag
        "https://news.example/2025/01/Story",  # paths are case-sensitive
        "https://www.news.example/2025/01/story",
    ],
)
def test_different_pages_stay_different(other: str) -> None:
    assert canonical_url(other) != ARTICLE


def test_escaped_slash_is_not_a_path_separator() -> None:
    assert canonical_url("https://news.example/a%2fb") == "https://news.example/a%2Fb"
    assert canonical_url("https://news.example/a%2Fb") != canonical_url("https://news.example/a/b")


_segment = st.text(alphabet="abcAMP-_.~%/é ", max_size=8)
_query_pair = st.tuples(st.sampled_from(["a", "b", "utm_x", "amp", "ref", "q"]), _segment)
_urls = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}://{host}{port}/{'/'.join(path)}?{'&'.join(f'{k}={v}' for k, v in query)}"
        f"#{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["news.example", "NEWS.example", "пример.рф", "127.0.0.1"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(_segment, max_size=4),
    st.lists(_query_pair, max_size=4),
    _segment,
)


@given(_urls)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("123")), max_size=6))
def test_query_order_does_not_matter(pairs: list[tuple[str, str]]) -> None:
    shuffled = pairs[:]
    random.Random(len(pairs)).shuffle(shuffled)

    def build(items: list[tuple[str, str]]) -> str:
        return "https://news.example/a?" + "&".join(f"{k}={v}" for k, v in items)

    assert canonical_url(build(pairs)) == canonical_url(build(shuffled))


def _entry(
    *, guid: str = "", url: str = "", title: str = "A story", wp_post_id: int | None = None
) -> FeedEntry:
    return FeedEntry(guid=guid, url=url, title=title, wp_post_id=wp_post_id)


def test_wordpress_post_id_wins_over_guid_and_url() -> None:
    first = _entry(guid="https://news.example/?p=42", url=ARTICLE, wp_post_id=42)
    renamed = _entry(
        guid="https://www.news.example/?p=42",
        url="https://www.news.example/2025/01/renamed-story/",
        title="A renamed story",
        wp_post_id=42,
    )

    assert entry_key(first) == "wp:news.example:42"
    assert entry_key(renamed) == entry_key(first)
    assert entry_key(_entry(url=ARTICLE, wp_post_id=43)) != entry_key(first)
    assert entry_key(_entry(url="https://other.example/x", wp_post_id=42)) != entry_key(first)


def test_url_guids_are_canonicalised() -> None:
    plain = _entry(guid=ARTICLE, url=ARTICLE)
    tracked = _entry(guid=ARTICLE + "/?utm_source=rss", url=ARTICLE + "?utm_source=rss")

    assert entry_key(plain) == f"guid:{ARTICLE}"
    assert entry_key(tracked) == entry_key(plain)


def test_opaque_guid_is_kept_verbatim() -> None:
    entry = _entry(guid="tag:news.example,2025:Post-1", url=ARTICLE)

    assert entry_key(entry) == "guid:tag:news.example,2025:Post-1"


@pytest.mark.parametrize("guid", ["", "   ", "A story", "  a  STORY "])
def test_missing_or_title_copy_guid_falls_back_to_the_url(guid: str) -> None:
    entry = _entry(guid=guid, url=ARTICLE + "?utm_source=x")

    assert entry_key(entry) == f"url:{ARTICLE}"


def test_entry_key_never_fails_on_an_empty_entry() -> None:
    assert entry_key(_entry(title="Only a title")).startswith("title:")
    assert entry_key(_entry(title="Only a title")) != entry_key(_entry(title="Another"))


def test_fallback_key_separates_items_that_reuse_a_guid() -> None:
    first = _entry(guid="1", url=ARTICLE, title="Election results")
    second = _entry(guid="1", url=ARTICLE, title="Weather tomorrow")
    cosmetic = _entry(guid="1", url=ARTICLE + "/", title="  election   RESULTS ")

    assert entry_key(first) == entry_key(second)
    assert fallback_key(first) != fallback_key(second)
    assert fallback_key(first) == fallback_key(cosmetic)
    assert fallback_key(first).startswith(f"fb:{ARTICLE}:")
