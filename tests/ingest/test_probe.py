"""The probes of ``newsbot check --online``: feeds and most-read sources, against a local
server, one finding each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.catalog import Catalog, parse_catalog
from scheduler.fetch import Fetcher, FetchLimits
from scheduler.probe import probe_sources
from tests.fakes.feedserver import FeedServer, rss_feed

SECTION = """<html><body><article><h2><a href="/news/one/">One</a></h2></article>
<article><h2><a href="/news/two/">Two</a></h2></article></body></html>"""


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as feeds:
        newest = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
        items = [
            {"title": "Old", "link": "https://n.example/1", "pubDate": datetime(2026, 1, 1)},
            {"title": "New", "link": "https://n.example/2", "pubDate": newest},
        ]
        feeds.set_feed("/feed", rss_feed(items))
        feeds.set_feed("/page", b"<html><body>Not a feed</body></html>", content_type="text/html")
        feeds.set_feed("/section/", SECTION.encode(), content_type="text/html; charset=utf-8")
        popular = [{"title": {"rendered": "Most read &amp; shared"}, "link": "https://n.example/3"}]
        feeds.set_feed("/popular", json.dumps(popular).encode(), content_type="application/json")
        feeds.set_feed("/broken", b"<html>", content_type="application/json")
        yield feeds


def catalog(server: FeedServer, mostread: dict[str, object]) -> Catalog:
    return parse_catalog(
        {
            "outlet": {"name": "N", "site": server.url("/"), "languages": ["en", "ru"]},
            "feeds": [
                {"url": server.url("/feed"), "language": "en"},
                {"url": server.url("/gone"), "language": "en"},
                {"url": server.url("/page"), "language": "en"},
                {
                    "url": server.url("/section/"),
                    "language": "en",
                    "type": "html",
                    "links": "article h2 a",
                },
            ],
            "mostread": mostread,
        }
    )


async def test_each_feed_and_source_is_one_line(server: FeedServer) -> None:
    sources = {"en": server.url("/popular"), "ru": server.url("/broken")}
    wanted = catalog(server, {"source": "wordpress-popular-posts", "url": sources})
    async with aiohttp.ClientSession() as http:
        findings = await probe_sources(Fetcher(http, limits=FetchLimits(total_timeout=5)), wanted)
    lines = {f.subject: (f.problem, f.text) for f in findings}
    problem, text = lines[f"feed {server.url('/feed')}"]
    assert not problem and text.startswith("2 items, newest 2026-11-29 17:00 UTC; ")
    assert lines[f"feed {server.url('/gone')}"] == (True, "answered HTTP 404")
    problem, text = lines[f"feed {server.url('/page')}"]
    assert problem and text.startswith("not a readable feed")
    problem, text = lines[f"feed {server.url('/section/')}"]
    assert not problem and text.startswith("section page with 2 article links")
    assert lines[f"most-read source (en) {server.url('/popular')}"] == (
        False,
        "1 article, first 'Most read & shared'",
    )
    problem, text = lines[f"most-read source (ru) {server.url('/broken')}"]
    assert problem and text.startswith("unreadable: not JSON")
    assert len(findings) == 6


async def test_sources_that_fetch_nothing_are_not_probed(server: FeedServer) -> None:
    wanted = catalog(server, {"source": "clicks"})
    async with aiohttp.ClientSession() as http:
        findings = await probe_sources(Fetcher(http), wanted)
    assert [f.subject for f in findings if f.subject.startswith("most-read")] == []
