"""Hostile feeds through the Ingestor: bounded time and memory, one clear line, others unaffected.

Fetcher- and parser-level cases live in test_fetch.py and test_parse.py; these go
through a whole poll, next to a good feed, and check the good one still delivers.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.fetch import FetchLimits
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, catalog_for, outbox, rig

LIMITS = FetchLimits(connect_timeout=1.0, total_timeout=2.0)  # 5 MiB body cap, 5 redirects
LEAD = "<p>The city council met on Monday. It approved the plan after a long debate.</p>"
GOOD = [{"post_id": 1, "title": "Tbilisi: news", "description": LEAD, "categories": ["Georgia"]}]
NEWER = [{"post_id": 2, "title": "Tbilisi: more", "description": LEAD, "categories": ["Georgia"]}]
NEWER += GOOD


def billion_laughs(levels: int = 10) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        + "\n".join(entities)
        + f'\n]>\n<rss version="2.0"><channel><title>&lol{levels - 1};</title>'
        f"<item><title>&lol{levels - 1};</title><link>{SITE}/1</link></item>"
        "</channel></rss>"
    ).encode()


TRUNCATED = wordpress_feed(GOOD, site=SITE)[:-60]
WRONG_ENCODING = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Лента</title>'
    f"<item><title>Грузия: новости</title><link>{SITE}/ru/1/</link><guid>ru-1</guid>"
    "<description>Первое предложение. Второе.</description></item></channel></rss>"
).encode("cp1251")


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_each_hostile_feed_fails_alone_and_quickly(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.set_feed("/good/", wordpress_feed(GOOD, site=SITE))
    server.set_feed("/bomb/", billion_laughs())
    server.set_huge("/huge/", 50 * 1024 * 1024)
    server.set_redirect("/loop/a", "/loop/b")
    server.set_redirect("/loop/b", "/loop/a")
    server.set_feed("/truncated/", TRUNCATED)
    server.set_feed("/encoding/", WRONG_ENCODING, content_type="application/rss+xml; charset=utf-8")
    server.set_slowloris("/slow/")
    paths = ["/good/", "/bomb/", "/huge/", "/loop/a", "/truncated/", "/encoding/", "/slow/"]
    catalog = catalog_for([{"url": server.url(p)} for p in paths])
    async with rig(sessions, catalog, limits=LIMITS) as r:
        await r.ingestor.poll_all()
        server.set_feed("/good/", wordpress_feed(NEWER, site=SITE))
        caplog.clear()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            reports = {r.url: r for r in await r.ingestor.poll_all()}
        elapsed = time.monotonic() - started
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    outcome = {path: reports[server.url(path)] for path in paths}
    assert outcome["/good/"].outcome == "new" and outcome["/good/"].deliveries == 1
    assert elapsed < LIMITS.total_timeout + 3  # the slow-loris is cut at the total timeout
    assert peak_after - peak_before < 200 * 1024  # KiB: a 50 MB body is never held
    assert "entities" in (outcome["/bomb/"].error or "")
    assert "larger than 5 MiB" in (outcome["/huge/"].error or "")
    assert "redirect loop" in (outcome["/loop/a"].error or "")
    assert "timed out" in (outcome["/slow/"].error or "") or "no data" in (
        outcome["/slow/"].error or ""
    )
    # Truncated XML keeps what it can read; a lying charset is decoded some other way.
    # Either way the poll ends with an outcome and a log line, never an exception.
    for path in ("/truncated/", "/encoding/"):
        assert outcome[path].outcome in ("failed", "unchanged", "new"), outcome[path]
    for path in ("/bomb/", "/huge/", "/loop/a", "/slow/"):
        lines = [rec for rec in caplog.records if server.url(path) in rec.getMessage()]
        assert len(lines) == 1, [rec.getMessage() for rec in lines]
        assert lines[0].exc_info is None  # one clear line, no traceback
    assert len(await outbox(sessions)) == 1


async def test_many_hostile_feeds_do_not_starve_a_good_one(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    """Hanging feeds on another host's slots: the good feed is polled at once."""
    server.set_feed("/good/", wordpress_feed(GOOD, site=SITE))
    for n in range(8):
        server.set_hang(f"/hang/{n}")
    feeds = [{"url": server.url(f"/hang/{n}", host="localhost")} for n in range(8)]
    catalog = catalog_for([{"url": server.url("/good/")}, *feeds])
    # Hangs last 6 s: a good poll that waited for one would take that long.
    limits = FetchLimits(connect_timeout=1.0, total_timeout=6.0)
    async with rig(sessions, catalog, limits=limits) as r:
        polls = asyncio.gather(*(r.ingestor.poll(f, force=True) for f in catalog.feeds[1:]))
        started = time.monotonic()
        good = await r.ingestor.poll(catalog.feeds[0], force=True)
        assert time.monotonic() - started < 3.0
        assert good.outcome == "new"
        hung = await polls
    assert {report.outcome for report in hung} == {"failed"}
