"""Where a lead image comes from: feed media, enclosures, the page's og:image, the REST API."""

from __future__ import annotations

from scheduler.extract import extract_page
from scheduler.parse import parse_feed
from scheduler.wordpress import post_entry
from tests.fakes.feedserver import rss_feed

HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}
BASE = "https://o.example/feed/"


def image_of(**fields: object) -> str:
    item = {"title": "T", "link": "https://o.example/1/", **fields}
    parsed = parse_feed(rss_feed([item]), HEADERS, BASE)
    [entry] = parsed.entries
    return entry.image_url


def test_media_content_enclosure_and_thumbnail_in_that_order() -> None:
    assert image_of(media="https://o.example/m.jpg") == "https://o.example/m.jpg"
    assert image_of(enclosure=("https://o.example/e.png", "image/png")) == "https://o.example/e.png"
    assert image_of(thumbnail="https://o.example/t.jpg") == "https://o.example/t.jpg"
    assert (
        image_of(
            thumbnail="https://o.example/t.jpg",
            enclosure=("https://o.example/e.png", "image/png"),
            media="https://o.example/m.jpg",
        )
        == "https://o.example/m.jpg"
    )


def test_audio_enclosures_and_unsafe_links_are_no_image() -> None:
    assert image_of(enclosure=("https://o.example/a.mp3", "audio/mpeg")) == ""
    assert image_of(media="javascript:alert(1)") == ""
    assert image_of() == ""


def test_relative_media_urls_resolve_against_the_feed() -> None:
    assert image_of(media="/img/lead.jpg") == "https://o.example/img/lead.jpg"


def test_og_image_of_the_article_page() -> None:
    page = """<html><head><meta property="og:title" content="Title">
    <meta property="og:image" content="/uploads/lead.jpg"></head>
    <body><article><p>Text.</p></article></body></html>"""
    assert extract_page(page, "https://o.example/2026/story/").image == (
        "https://o.example/uploads/lead.jpg"
    )


def test_json_ld_image_object_when_no_meta_tag() -> None:
    page = """<html><head><script type="application/ld+json">
    {"@type": "NewsArticle", "headline": "T",
     "image": [{"@type": "ImageObject", "url": "https://cdn.o.example/a.jpg"}]}
    </script></head><body><p>Text.</p></body></html>"""
    assert extract_page(page, "https://o.example/x/").image == "https://cdn.o.example/a.jpg"
    assert (
        extract_page("<html><body><p>No image.</p></body></html>", "https://o.example/").image == ""
    )


def test_rest_featured_media() -> None:
    post = {
        "id": 5,
        "link": "https://o.example/5/",
        "title": {"rendered": "T"},
        "_embedded": {"wp:featuredmedia": [{"source_url": "https://o.example/f.jpg"}]},
    }
    entry = post_entry(post)
    assert entry is not None and entry.image_url == "https://o.example/f.jpg"
    bare = post_entry({"id": 6, "link": "https://o.example/6/", "title": "T"})
    assert bare is not None and bare.image_url == ""
