"""No gaps: a burst larger than the feed's window is filled from the WordPress REST API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.wordpress import post_entry, posts_url
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import REST, SITE, FakeWordPress, Post, articles, catalog_for, outbox, rig


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def burst(clock: FakeClock, first_id: int, count: int, *, minutes_apart: int = 5) -> list[Post]:
    start = clock.now() - timedelta(minutes=minutes_apart * count)
    return [
        Post(
            first_id + n,
            start + timedelta(minutes=minutes_apart * n),
            "Georgia" if n % 2 else "Armenia",
        )
        for n in range(count)
    ]


async def test_burst_while_down_arrives_once_each_after_restart(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for(
        [{"url": server.url("/feed/"), "wordpress": server.url(REST), "interval": 60}]
    )
    feed = catalog.feeds[0]
    clock.advance(-3 * 3600)
    site.publish(burst(clock, 1, 5))
    async with rig(sessions, catalog, clock=clock) as r:
        assert (
            await r.ingestor.poll(feed, force=True)
        ).outcome == "new"  # first sight: recorded only
    assert await outbox(sessions) == []

    clock.advance(3 * 3600)  # the bot is down while 25 articles are published
    site.publish(burst(clock, 6, 25))
    async with rig(sessions, catalog, clock=clock) as r:  # restart
        report = await r.ingestor.poll(feed)
        assert report.outcome == "new" and report.new_articles == 25
        assert report.deliveries == 25
        assert (await r.ingestor.poll(feed, force=True)).outcome == "unchanged"
        assert not [a for a in r.alerts.sent if "gap" in a.lower()]

    stored = await articles(sessions)
    assert sorted(a.key for a in stored) == sorted(
        f"wp:caucasus-wire.example:{n}" for n in range(1, 31)
    )
    announced = {a.id: a for a in stored if a.announced}
    assert len(announced) == 25
    rows = await outbox(sessions)
    assert len(rows) == 25 and len({(r.article_id, r.chat_id) for r in rows}) == 25
    assert {r.article_id for r in rows} == set(announced)
    # Oldest first, and every article reached its own region's channel.
    assert [announced[r.article_id].key for r in rows] == [
        f"wp:caucasus-wire.example:{n}" for n in range(6, 31)
    ]
    for row in rows:
        article = announced[row.article_id]
        assert article.regions in ("georgia", "armenia")
        assert article.summary and "&#8217;" not in article.title
    assert sum("story’s" in a.title for a in announced.values()) == 15  # from the REST API
    # The REST API was asked with the documented parameters, from before the last known post.
    query = site.rest_queries[0]
    assert query["per_page"] == "100" and query["page"] == "1"
    assert datetime.fromisoformat(query["after"]) < burst(clock, 6, 25)[0].published


async def test_rest_pages_are_walked_to_the_end(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "wordpress": server.url(REST)}])
    clock.advance(-20 * 3600)
    site.publish(burst(clock, 1, 3))
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        clock.advance(20 * 3600)
        site.publish(burst(clock, 100, 230, minutes_apart=1))
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.new_articles == 230 and report.deliveries == 230
    assert [q["page"] for q in site.rest_queries] == ["1", "2", "3"]


async def test_gap_without_rest_api_is_reported(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/")}])
    site.publish(burst(clock, 1, 3))
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        clock.advance(3600)
        site.publish(burst(clock, 10, 12))
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
        assert report.new_articles == 10  # the feed's window, all it can give
        gaps = [a for a in r.alerts.sent if "gap" in a.lower()]
        assert len(gaps) == 1 and catalog.feeds[0].url in gaps[0]
        # An ordinary poll afterwards (known items present) reports nothing.
        clock.advance(600)
        site.publish(burst(clock, 30, 1))
        await r.ingestor.poll(catalog.feeds[0], force=True)
        assert len([a for a in r.alerts.sent if "gap" in a.lower()]) == 1
        # Another gap soon after is logged, not alerted again; hours later it is.
        for hours in (1, 6):
            clock.advance(hours * 3600)
            site.publish(burst(clock, 100 * hours, 12))
            await r.ingestor.poll(catalog.feeds[0], force=True)
        assert len([a for a in r.alerts.sent if "gap" in a.lower()]) == 2
    assert site.rest_queries == []


async def test_rest_api_failure_keeps_the_feed_items_and_alerts(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    server.set_feed(REST + "posts", b"<html>not json</html>", content_type="text/html")
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "wordpress": server.url(REST)}])
    site.publish(burst(clock, 1, 3))
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        clock.advance(3600)
        site.publish(burst(clock, 10, 12))
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
        assert report.outcome == "new" and report.new_articles == 10
        assert any("incomplete" in a for a in r.alerts.sent)


async def test_items_older_than_the_horizon_are_recorded_not_pushed(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "horizon": 6}])
    site.publish(burst(clock, 1, 2))
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        old = Post(50, clock.now() - timedelta(hours=7), "Georgia")
        fresh = Post(51, clock.now() - timedelta(hours=5), "Georgia")
        site.publish([old, fresh])
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.new_articles == 2 and report.deliveries == 1
    by_key = {a.key: a for a in await articles(sessions)}
    assert by_key["wp:caucasus-wire.example:50"].announced is False
    assert by_key["wp:caucasus-wire.example:51"].announced is True


def test_rest_post_maps_to_an_entry_with_the_feed_identity() -> None:
    from scheduler.identity import entry_key

    post = Post(42, datetime(2026, 11, 27, 7, 0), "Georgia").rest()
    entry = post_entry(post)
    assert entry is not None
    assert entry_key(entry) == "wp:caucasus-wire.example:42"
    assert entry.categories == ("Georgia",)
    assert entry.published == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert "More details follow" in entry.summary_html
    bad: list[Any] = [None, [], {"id": "x", "link": f"{SITE}/1/"}, {"id": 3, "link": "ftp://x"}]
    assert [post_entry(item) for item in bad] == [None] * len(bad)
    assert post_entry(json.loads(json.dumps({**post, "title": 5})))  # odd fields tolerated


def test_posts_url_carries_after_in_utc_and_paging() -> None:
    url = posts_url("https://s.example/wp-json/wp/v2", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 3)
    assert url.startswith("https://s.example/wp-json/wp/v2/posts?")
    assert "after=2026-01-02T03%3A04%3A05" in url and "per_page=100" in url and "page=3" in url


async def test_first_poll_backlog_is_what_the_operator_asked_for(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "backlog": 3, "horizon": 6}])
    hours = [1, 2, 8, 9]  # the third newest is past the horizon, but asked for
    site.publish(
        [Post(n, clock.now() - timedelta(hours=h), "Georgia") for n, h in enumerate(hours)]
    )
    async with rig(sessions, catalog, clock=clock) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert (report.new_articles, report.deliveries) == (4, 3)
