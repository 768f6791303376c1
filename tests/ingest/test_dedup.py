"""One article = one row, even when several feeds carry it and are polled at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.ingest import apply as ingest_apply
from tests.fakes.feedserver import FeedServer, rss_feed, wordpress_feed
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


def plain(guid: str, path: str, title: str) -> dict[str, object]:
    return {"guid": guid, "link": f"{SITE}{path}", "title": title, "description": LEAD}


async def test_feed_giving_every_item_one_guid_loses_nothing(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    items = [plain("1", f"/{n}/", f"Tbilisi story {n}") for n in range(3)]
    server.set_feed("/feed/", rss_feed(items))
    catalog = catalog_for([{"url": server.url("/feed/")}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll_all()
        items.insert(0, plain("1", "/3/", "Tbilisi story 3"))
        server.set_feed("/feed/", rss_feed(items))
        first = (await r.ingestor.poll_all())[0]
        again = (await r.ingestor.poll_all())[0]
    assert (first.new_articles, first.deliveries) == (1, 1)
    assert again.outcome == "unchanged"
    assert len(await articles(sessions)) == 4


async def test_guid_reused_for_another_article_is_a_new_article(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", rss_feed([plain("1", "/a/", "Tbilisi A"), plain("2", "/b/", "B")]))
    catalog = catalog_for([{"url": server.url("/feed/")}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll_all()
        # The CMS numbers from 1 again; and a slug edit keeps its title (same article).
        items = [plain("1", "/c/", "Tbilisi C"), plain("2", "/b-renamed/", "B")]
        server.set_feed("/feed/", rss_feed(items))
        report = (await r.ingestor.poll_all())[0]
        again = (await r.ingestor.poll_all())[0]
    assert (report.new_articles, report.deliveries) == (1, 1)
    assert again.outcome == "unchanged"
    titles = sorted(a.title for a in await articles(sessions))
    assert titles == ["B", "Tbilisi A", "Tbilisi C"]


async def test_a_write_racing_another_process_is_skipped_not_crashed(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process stores the article between our check and our insert."""
    server.set_feed("/feed/", wordpress_feed([item(1)], site=SITE))
    catalog = catalog_for([{"url": server.url("/feed/")}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll_all()
        server.set_feed("/feed/", wordpress_feed([item(2), item(1)], site=SITE))

        async def nothing_known(session: AsyncSession, values: object) -> set[str]:
            return set()

        async def stale(entries: list[tuple[str, object]]) -> list[tuple[str, object]]:
            return entries  # as if checked before the other process committed

        monkeypatch.setattr(ingest_apply, "known_keys", nothing_known)
        monkeypatch.setattr(ingest_apply, "known_canonical_urls", nothing_known)
        monkeypatch.setattr(r.ingestor, "_fresh", stale)
        report = (await r.ingestor.poll_all())[0]
        assert (report.outcome, report.error) == ("skipped", "concurrent write")
        monkeypatch.undo()
        report = (await r.ingestor.poll_all())[0]
        assert (report.outcome, report.new_articles) == ("new", 1)
    assert len(await articles(sessions)) == 2
