"""WordPress found by itself: the REST API from a feed's Link header, a page's
``<link rel="https://api.w.org/">`` or the feed's generator; stored on the feed row and
used for gap fill, removal checks and CMS pushes without a ``wordpress =`` line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Feed
from scheduler.discover import (
    api_root_from_headers,
    api_root_from_html,
    beside_feed,
    describe,
    rest_base,
)
from scheduler.parse import parse_feed
from scheduler.wordpress import in_language
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import (
    REST,
    SITE,
    FakeWordPress,
    Post,
    articles,
    catalog_for,
    feed_row,
    rig,
)

GENERATOR = "https://wordpress.org/?v=6.7.1"


def test_link_headers_name_the_api_among_other_links() -> None:
    headers = CIMultiDictProxy(
        CIMultiDict(
            [
                ("Link", "<https://site.example/?p=5>; rel=shortlink"),
                ("Link", '<https://site.example/wp-json/>; rel="https://api.w.org/"'),
            ]
        )
    )
    assert api_root_from_headers(headers, "https://site.example/feed/") == (
        "https://site.example/wp-json/"
    )
    combined = {"Link": '</ru/wp-json/>; rel="alternate https://api.w.org/", <x>; rel=next'}
    assert api_root_from_headers(combined, "https://site.example/ru/feed/") == (
        "https://site.example/ru/wp-json/"
    )
    assert (
        api_root_from_headers({"Link": "<https://a.example/>; rel=next"}, "https://a.example/")
        is None
    )
    assert api_root_from_headers({}, "https://a.example/") is None


def test_a_pages_link_element_names_the_api() -> None:
    page = (
        b'<html><head><link rel="https://api.w.org/" href="/hy/wp-json/">'
        b"</head><body>x</body></html>"
    )
    assert (
        api_root_from_html(page, "https://site.example/hy/") == "https://site.example/hy/wp-json/"
    )
    assert api_root_from_html(b"<html><head></head></html>", "https://site.example/") is None
    assert api_root_from_html(b"", "https://site.example/") is None


def test_rest_base_and_the_default_place_beside_a_feed() -> None:
    assert rest_base("https://site.example/wp-json/") == "https://site.example/wp-json/wp/v2/"
    assert rest_base("https://site.example/?rest_route=/") is None  # not addressable here
    assert rest_base("javascript:alert(1)") is None
    assert beside_feed("https://site.example/ru/feed/") == "https://site.example/ru/wp-json/"
    assert beside_feed("https://site.example/feed/rss2/") == "https://site.example/wp-json/"


def test_the_generator_is_read_from_the_feed() -> None:
    body = wordpress_feed([{"post_id": 1, "title": "A"}], generator=GENERATOR)
    parsed = parse_feed(body, {"Content-Type": "application/rss+xml"}, "https://site.example/feed/")
    assert "wordpress.org" in parsed.generator


def test_check_online_describes_what_a_feed_uses() -> None:
    plain = Feed(url="https://site.example/feed/", language="en")
    assert describe(plain, None) == "no WordPress REST API found (gap fill and removal checks off)"
    assert describe(plain, "https://site.example/wp-json/wp/v2/", "the feed's Link header") == (
        "WordPress REST API https://site.example/wp-json/wp/v2/ (found by the feed's Link header)"
    )
    off = Feed(url="https://site.example/feed/", language="en", wordpress=False)
    assert describe(off, "https://site.example/wp-json/wp/v2/") == (
        "WordPress REST API off (wordpress = false)"
    )


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def burst(clock: FakeClock, first: int, count: int) -> list[Post]:
    start = clock.now() - timedelta(minutes=5 * count)
    return [Post(first + n, start + timedelta(minutes=5 * n), "Georgia") for n in range(count)]


async def two_polls_around_a_burst(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    site: FakeWordPress,
    feed: dict[str, Any],
) -> None:
    clock = FakeClock()
    site.publish(burst(clock, 1, 3))
    catalog = catalog_for([{"url": server.url("/feed/"), **feed}])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    clock.advance(3600)
    site.publish(burst(clock, 10, 15))
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)


async def test_the_link_header_is_stored_and_fills_a_gap(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server, announce_api=True)
    await two_polls_around_a_burst(sessions, server, site, {})
    row = await feed_row(sessions, server.url("/feed/"))
    assert row.wordpress_api == server.url(REST)
    assert row.wordpress_found == "the feed's Link header"
    assert len(await articles(sessions)) == 18  # 3 first seen, then all 15 of the burst


async def test_wordpress_false_turns_discovery_off(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server, announce_api=True)
    await two_polls_around_a_burst(sessions, server, site, {"wordpress": False})
    assert (await feed_row(sessions, server.url("/feed/"))).wordpress_api is None
    assert site.rest_queries == [] == site.include_queries
    assert len(await articles(sessions)) == 13  # the feed's window of 10 only


async def test_a_generator_leads_to_the_home_pages_link(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    home = f'<html><head><link rel="https://api.w.org/" href="{server.url("/wp-json/")}"></head>'
    server.set_handler("/", _page(home + "<body>Home</body></html>"))
    feed = {"url": server.url("/feed/"), "backlog": 0}
    site.publish(burst(FakeClock(), 1, 2))
    body = wordpress_feed(
        [p.feed_item() for p in site.posts], site=server.url(""), generator=GENERATOR
    )
    server.set_feed("/feed/", body)
    catalog = catalog_for([feed])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        assert server.hits["/"] == 1
        await r.ingestor.poll(catalog.feeds[0], force=True)
        assert server.hits["/"] == 1  # found once, not looked for again
    row = await feed_row(sessions, server.url("/feed/"))
    assert (row.wordpress_api, row.wordpress_found) == (
        server.url(REST),
        "the home page's api.w.org link",
    )


async def test_a_generator_alone_means_the_default_rest_path(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    body = wordpress_feed([{"post_id": 1, "title": "A"}], site=SITE, generator=GENERATOR)
    server.set_feed("/ru/feed/", body)  # its home page is on another host: not fetched
    catalog = catalog_for([{"url": server.url("/ru/feed/")}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    row = await feed_row(sessions, server.url("/ru/feed/"))
    assert row.wordpress_api == server.url("/ru/wp-json/wp/v2/")
    assert "generator" in (row.wordpress_found or "")


async def test_a_feed_that_is_not_wordpress_stores_nothing(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", wordpress_feed([{"post_id": 1, "title": "A"}], site=SITE))
    catalog = catalog_for([{"url": server.url("/feed/")}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    assert (await feed_row(sessions, server.url("/feed/"))).wordpress_api is None
    assert server.hits["/"] == 0


async def test_a_section_pages_link_element_is_used(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    page = (
        f'<html><head><link rel="https://api.w.org/" href="{server.url("/wp-json/")}"></head>'
        f'<body><article><h2><a href="{server.url("/a/")}">A story</a></h2></article></body></html>'
    )
    server.set_handler("/section/", _page(page))
    server.set_handler(
        "/a/", _page("<html><head><title>A story</title></head><body></body></html>")
    )
    catalog = catalog_for([{"url": server.url("/section/"), "type": "html", "links": "h2 a"}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    row = await feed_row(sessions, server.url("/section/"))
    assert (row.wordpress_api, row.wordpress_found) == (
        server.url(REST),
        "the page's api.w.org link",
    )


def _page(html: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=html, content_type="text/html")

    return handler


async def test_removal_checks_and_pushes_use_the_found_api(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server, announce_api=True)
    clock = FakeClock(datetime.now(UTC).replace(tzinfo=None))
    site.publish([Post(n, clock.now() - timedelta(hours=n), "Georgia") for n in (1, 2, 3)])
    catalog = catalog_for([{"url": server.url("/feed/"), "backlog": 3}])
    async with rig(sessions, catalog, clock=clock) as r:
        assert await r.ingestor.check_removed() == 0  # nothing found yet: nothing asked
        assert site.rest_queries == []
        await r.ingestor.poll_all()
        site.posts = [p for p in site.posts if p.id != 2]
        assert await r.ingestor.check_removed() == 1
        [alert] = [a for a in r.alerts.sent if "removed" in a]
        assert "story number 2" in alert

        site.publish([Post(7, clock.now() - timedelta(minutes=1), "Georgia")])
        [report] = await r.ingestor.push(post_id=7, url=f"{SITE}/7/")
        assert (report.outcome, report.new_articles) == ("new", 1)
    assert server.hits[f"{REST}posts/7"] == 1


async def test_a_rest_api_listing_every_edition_fills_a_feed_with_its_own_language_only(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    """Polylang's REST API lists every language; the Russian feed's gap takes its own."""
    site = FakeWordPress(server, announce_api=True)
    clock = FakeClock()
    link = f'<{server.url("/wp-json/")}>; rel="https://api.w.org/"'

    def publish_both(first: int, count: int) -> None:
        start = clock.now() - timedelta(minutes=5 * count)
        site.publish(
            [
                Post(first + n, start + timedelta(minutes=5 * n), "Georgia", {"lang": lang})
                for n, lang in enumerate(["en", "ru"] * (count // 2))
            ]
        )
        russian = [p for p in site.posts if p.extra["lang"] == "ru"]
        newest = sorted(russian, key=lambda p: p.published, reverse=True)[:10]
        body = wordpress_feed([p.feed_item() for p in newest], site=SITE)
        server.set_feed("/feed/", body, headers={"Link": link})

    publish_both(1, 4)
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru"}])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    clock.advance(4 * 3600)  # the bot was down; 30 posts (15 in Russian) since
    publish_both(10, 30)
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
    assert site.rest_queries, "the gap was filled from the REST API"
    russian = {f"wp:caucasus-wire.example:{p.id}" for p in site.posts if p.extra["lang"] == "ru"}
    assert {a.key for a in await articles(sessions)} == russian
    assert len(russian) == 17


def test_a_posts_declared_language_is_compared_by_its_base() -> None:
    assert in_language({"lang": "ru"}, "ru") and in_language({"lang": "ru"}, "ru-RU")
    assert in_language({"wpml_current_locale": "hy_AM"}, "hy")
    assert not in_language({"wpml_current_locale": "en_US"}, "hy")
    assert in_language({"id": 5}, "hy")  # the site says nothing: it is the feed's
    assert in_language({"lang": "en"}, None)
