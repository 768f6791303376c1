"""One article = one row, even when several feeds carry it and are polled at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, articles, catalog_for, outbox, rig

LEAD = "<p>The council met on Monday in Tbilisi. It approved the plan after a debate.</p>"


def item(post_id: int, **extra: object) -> dict[str, object]:
    return {"post_id": post_id, "title": f"Tbilisi {post_id}", "description": LEAD, **extra}


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_same_article_in_several_feeds_is_stored_and_sent_once(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    paths = ["/feed/", "/category/georgia/feed/", "/tag/tbilisi/feed/"]
    for path in paths:
        server.set_feed(path, wordpress_feed([item(1)], site=SITE))
    catalog = catalog_for([{"url": server.url(p)} for p in paths])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll_all()
        for path in paths:  # the same new post, one with tracking noise in its link
            link = f"{SITE}/2/?utm_source=rss" if "tag" in path else f"{SITE}/2/"
            server.set_feed(path, wordpress_feed([item(2, link=link), item(1)], site=SITE))
        reports = await r.ingestor.poll_all()
    assert {rep.outcome for rep in reports} <= {"new", "unchanged"}
    assert sum(rep.new_articles for rep in reports) == 1
    assert len(await articles(sessions)) == 2
    assert len(await outbox(sessions)) == 1  # the Georgia channel, once
