"""Polling behaviour: due times, Retry-After, backoff, alerts, redirects, 410, floors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from scheduler import ingest
from scheduler.ingest import backoff, next_interval, stretched_interval
from scheduler.jobs import poll_and_reschedule
from tests.fakes.feedserver import FeedServer, rss_feed, wordpress_feed
from tests.ingest.support import SITE, catalog_for, feed_row, rig

ITEMS = [{"post_id": 1, "title": "Tbilisi news", "categories": ["Georgia"]}]


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


# --- pure rules ---------------------------------------------------------------------------


def test_interval_stretches_for_idle_feeds_within_bounds() -> None:
    assert stretched_interval(180, 0) == 180
    assert stretched_interval(180, ingest.IDLE_POLLS_PER_STEP - 1) == 180
    assert stretched_interval(180, ingest.IDLE_POLLS_PER_STEP) == 360
    assert stretched_interval(180, 10_000) == 180 * ingest.MAX_STRETCH
    assert stretched_interval(1200, 10_000) == ingest.MAX_STRETCHED_INTERVAL  # an hour at most
    assert stretched_interval(7200, 10_000) == 7200  # never below the catalog interval


def test_next_interval_has_fifteen_percent_jitter_and_honours_the_floor() -> None:
    assert next_interval(100, 0, None, rng=lambda: 0.0) == pytest.approx(85)
    assert next_interval(100, 0, None, rng=lambda: 1.0) == pytest.approx(115)
    assert next_interval(100, 0, 600.0, rng=lambda: 1.0) == 600
    samples = [next_interval(100, 0, None) for _ in range(500)]
    assert 85 <= min(samples) < 90 and 110 < max(samples) <= 115


def test_backoff_grows_and_is_capped_at_an_hour() -> None:
    assert 85 <= backoff(1, 100) <= 115
    assert 170 <= backoff(2, 100) <= 230
    assert all(backoff(n, 100) <= 3600 * 1.15 for n in range(1, 200))
    assert backoff(50, 100) >= 3600 * 0.85


# --- against a local server -----------------------------------------------------------------


async def test_retry_after_is_respected_even_by_a_forced_poll(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", b"busy", status=503, headers={"Retry-After": "120"})
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 30}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(feed)
        assert report.outcome == "failed" and report.error == "HTTP 503"
        assert report.next_poll_at == r.clock.now() + timedelta(seconds=120)

        server.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE))
        for _ in range(3):
            r.clock.advance(39)  # 117 s in all: still inside the window
            assert (await r.ingestor.poll(feed)).outcome == "skipped"
            assert (await r.ingestor.poll(feed, force=True)).outcome == "skipped"
            assert (await r.ingestor.poll_all())[0].outcome == "skipped"
        assert server.hits["/feed/"] == 1

        r.clock.advance(4)
        assert (await r.ingestor.poll(feed)).outcome == "new"
        assert server.hits["/feed/"] == 2


async def test_scheduled_job_does_not_come_back_before_retry_after(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    """The real scheduler path: the job is moved to the time the server asked for."""
    arrivals: list[float] = []
    second = asyncio.Event()

    async def busy(request: web.Request) -> web.StreamResponse:
        arrivals.append(time.monotonic())
        if len(arrivals) >= 2:
            second.set()
        if len(arrivals) == 1:
            return web.Response(status=429, headers={"Retry-After": "2"})
        return web.Response(body=wordpress_feed(ITEMS, site=SITE), content_type="application/xml")

    server.set_handler("/feed/", busy)
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 10}])
    async with rig(sessions, catalog) as r:
        scheduler = AsyncIOScheduler(timezone="UTC")
        clock = SystemClock()
        r.ingestor._clock = clock  # the scheduler runs on real time
        scheduler.add_job(
            poll_and_reschedule,
            "interval",
            seconds=1,  # would come back every second if not rescheduled
            args=[scheduler, r.ingestor, catalog.feeds[0], "feed:0"],
            id="feed:0",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        try:
            await asyncio.wait_for(second.wait(), 6)
        finally:
            scheduler.shutdown(wait=False)
        await r.ingestor.wait_idle()  # let the last poll finish its transaction
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 2.0


async def test_failures_alert_once_and_recovery_alerts_once(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", b"oops", status=500)
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 60}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        waits = []
        for _ in range(6):
            report = await r.ingestor.poll(feed, force=True)
            assert report.outcome == "failed" and report.next_poll_at is not None
            waits.append((report.next_poll_at - r.clock.now()).total_seconds())
        failing = [a for a in r.alerts.sent if "failing" in a]
        assert failing == [f"Feed failing 3 times in a row: {feed.url} (HTTP 500)"]
        assert waits[1] > waits[0] and max(waits) <= 3600 * 1.15
        assert waits[0] >= 60 * 0.85

        server.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE), etag='"a"')
        assert (await r.ingestor.poll(feed, force=True)).outcome == "new"
        assert (await r.ingestor.poll(feed, force=True)).outcome == "not_modified"
        back = [a for a in r.alerts.sent if "back" in a]
        assert back == [f"Feed is back: {feed.url}"]
        assert len(r.alerts.sent) == 2

        # Two failures and a success: below the threshold, no alert either way.
        server.set_feed("/feed/", b"oops", status=500)
        await r.ingestor.poll(feed, force=True)
        await r.ingestor.poll(feed, force=True)
        server.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE), etag='"a"')
        await r.ingestor.poll(feed, force=True)
        assert len(r.alerts.sent) == 2
        assert (await feed_row(sessions, feed.url)).consecutive_failures == 0


async def test_permanent_redirect_adopted_after_three_polls(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_redirect("/old/", "/new/", status=301)
    server.set_feed("/new/", wordpress_feed(ITEMS, site=SITE), etag='"n"')
    catalog = catalog_for([{"url": server.url("/old/"), "interval": 60}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        for seen in (1, 2):
            assert (await r.ingestor.poll(feed, force=True)).outcome in ("new", "not_modified")
            row = await feed_row(sessions, feed.url)
            assert row.current_url == feed.url and row.moved_count == seen
        await r.ingestor.poll(feed, force=True)
        row = await feed_row(sessions, feed.url)
        assert row.current_url == server.url("/new/")
        assert row.moved_to is None and row.moved_count == 0
        old_hits = server.hits["/old/"]
        assert (await r.ingestor.poll(feed, force=True)).outcome == "not_modified"
        assert server.hits["/old/"] == old_hits == 3


async def test_temporary_redirect_or_a_broken_streak_keeps_the_url(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/new/", wordpress_feed(ITEMS, site=SITE))
    catalog = catalog_for([{"url": server.url("/old/"), "interval": 60}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        server.set_redirect("/old/", "/new/", status=301)
        await r.ingestor.poll(feed, force=True)
        await r.ingestor.poll(feed, force=True)
        server.set_redirect("/old/", "/new/", status=302)  # the streak breaks
        await r.ingestor.poll(feed, force=True)
        server.set_redirect("/old/", "/new/", status=308)
        await r.ingestor.poll(feed, force=True)
        row = await feed_row(sessions, feed.url)
        assert row.current_url == feed.url and row.moved_count == 1


async def test_gone_feed_is_disabled_and_not_requested_again(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", b"gone", status=410)
    catalog = catalog_for([{"url": server.url("/feed/")}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        assert (await r.ingestor.poll(feed)).outcome == "disabled"
        assert (await r.ingestor.poll(feed, force=True)).outcome == "disabled"
        assert server.hits["/feed/"] == 1
        assert len([a for a in r.alerts.sent if "410" in a]) == 1


async def test_cache_control_and_ttl_are_floors_that_survive_304(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    body = rss_feed([{"title": "One", "link": f"{SITE}/1/", "guid": "1"}], ttl=30)
    server.set_feed("/ttl/", body, etag='"t"')
    server.set_feed(
        "/cc/",
        wordpress_feed(ITEMS, site=SITE),
        etag='"c"',
        headers={"Cache-Control": "max-age=900"},
    )
    server.set_feed("/huge/", body, headers={"Cache-Control": "max-age=999999"})
    catalog = catalog_for(
        [{"url": server.url(p), "interval": 60} for p in ("/ttl/", "/cc/", "/huge/")]
    )
    ttl, cc, huge = catalog.feeds
    async with rig(sessions, catalog) as r:
        waits = {}
        for feed in (ttl, cc, huge):
            report = await r.ingestor.poll(feed, force=True)
            assert report.outcome in ("new", "unchanged") and report.next_poll_at is not None
            waits[feed.url] = (report.next_poll_at - r.clock.now()).total_seconds()
        assert waits[ttl.url] == 1800
        assert waits[cc.url] == 900
        assert waits[huge.url] == ingest.MAX_FLOOR
        # A bare 304 does not repeat the <ttl>: the one read before still holds.
        report = await r.ingestor.poll(ttl, force=True)
        assert report.outcome == "not_modified" and report.next_poll_at is not None
        assert (report.next_poll_at - r.clock.now()).total_seconds() == 1800


async def test_slow_feed_is_polled_less_often_until_it_publishes(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE), etag='"1"')
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 100}])
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        waits = []
        for _ in range(3 * ingest.IDLE_POLLS_PER_STEP + 1):
            report = await r.ingestor.poll(feed, force=True)
            assert report.next_poll_at is not None
            waits.append((report.next_poll_at - r.clock.now()).total_seconds())
        assert waits[0] <= 115
        assert 85 * ingest.MAX_STRETCH <= waits[-1] <= 115 * ingest.MAX_STRETCH
        # Not yet due: a scheduled (unforced) poll does not hit the server.
        hits = server.hits["/feed/"]
        assert (await r.ingestor.poll(feed)).outcome == "skipped"
        assert server.hits["/feed/"] == hits

        more = [{"post_id": 2, "title": "Yerevan news", "categories": ["Armenia"]}, *ITEMS]
        server.set_feed("/feed/", wordpress_feed(more, site=SITE), etag='"2"')
        report = await r.ingestor.poll(feed, force=True)
        assert report.outcome == "new" and report.next_poll_at is not None
        assert (report.next_poll_at - r.clock.now()).total_seconds() <= 115
