"""Channels first, fan-out beside: the ingest transaction writes the article and its channel
rows; private subscribers' rows follow in chunks, after it, without holding up other feeds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from scheduler.ingest.apply import Plan, apply_plan
from scheduler.ingest.fanout import FanOut
from tests.crash.support import add_private_readers, reader_ids
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, catalog_for, rig

READERS = 230
CHUNK = 50  # five chunks


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def story(post_id: int, title: str) -> dict[str, object]:
    return {"post_id": post_id, "title": title, "categories": ["Georgia"]}


async def rows_by_kind(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(ChatRow.kind, func.count())
            .join(OutboxRow, OutboxRow.chat_id == ChatRow.id)
            .group_by(ChatRow.kind)
        )
        return {kind: int(count) for kind, count in rows}


async def cursors(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int | None]:
    async with sessions() as session:
        rows = await session.execute(select(ArticleRow.title, ArticleRow.fanout_after))
        return {title: after for title, after in rows}


async def test_channels_and_other_feeds_do_not_wait_for_the_private_fan_out(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.set_feed("/a/", wordpress_feed([story(1, "Tbilisi old")], site=SITE))
    server.set_feed("/b/", wordpress_feed([story(2, "Georgia old")], site=SITE))
    catalog = catalog_for([{"url": server.url("/a/")}, {"url": server.url("/b/")}])
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
    async with rig(sessions, catalog, fanout_chunk=CHUNK) as r:
        await r.ingestor.poll_all()  # known feeds; the first poll pushes no backlog
        release = asyncio.Event()
        real_round = FanOut._round

        async def held(fanout: FanOut) -> tuple[bool, bool]:
            await release.wait()
            return await real_round(fanout)

        monkeypatch.setattr(FanOut, "_round", held)
        server.set_feed("/a/", wordpress_feed([story(3, "Tbilisi new"), story(1, "x")], site=SITE))
        server.set_feed("/b/", wordpress_feed([story(4, "Georgia new"), story(2, "y")], site=SITE))
        first = await r.ingestor.poll(r.catalog.feeds[0], force=True)
        second = await r.ingestor.poll(r.catalog.feeds[1], force=True)
        # Both polls committed their article and its channel row while no private row
        # existed yet: the fan-out of the first article held up neither.
        assert (first.outcome, first.deliveries) == ("new", 1)
        assert (second.outcome, second.deliveries) == ("new", 1)
        assert await rows_by_kind(sessions) == {"channel": 2}
        pending = await cursors(sessions)
        assert pending["Tbilisi new"] == 0 and pending["Georgia new"] == 0
        assert pending["Tbilisi old"] is None  # recorded, not pushed: nothing to fan out

        release.set()
        await r.ingestor.fan_out()
    assert await rows_by_kind(sessions) == {"channel": 2, "private": 2 * READERS}
    assert set((await cursors(sessions)).values()) == {None}
    async with sessions() as session:
        channel_ids = list(
            await session.scalars(
                select(OutboxRow.id)
                .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
                .where(ChatRow.kind == "channel")
            )
        )
        first_private = await session.scalar(
            select(func.min(OutboxRow.id))
            .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
            .where(ChatRow.kind == "private")
        )
    assert first_private is not None and max(channel_ids) < first_private


async def test_a_fan_out_resumes_at_its_cursor_and_a_repeated_chunk_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/a/", wordpress_feed([story(1, "Tbilisi old")], site=SITE))
    catalog = catalog_for([{"url": server.url("/a/")}])
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
    async with rig(sessions, catalog, fanout_chunk=CHUNK) as r:
        await r.ingestor.poll_all()
        server.set_feed("/a/", wordpress_feed([story(2, "Tbilisi new"), story(1, "x")], site=SITE))
        await r.ingestor.poll_all()
    async with sessions.begin() as session:
        # As if the process died after two chunks (the third one's rows done twice):
        # the rows after the cursor are gone, the cursor is back at the second chunk's
        # end, and the first reader's row is gone too (the resumed run must not redo it).
        article = await session.scalar(select(ArticleRow).where(ArticleRow.title == "Tbilisi new"))
        assert article is not None and article.fanout_after is None
        private = list(
            await session.scalars(
                select(ChatRow.id).where(ChatRow.kind == "private").order_by(ChatRow.id)
            )
        )
        cursor = private[2 * CHUNK - 1]
        await session.execute(
            delete(OutboxRow).where(
                OutboxRow.article_id == article.id,
                OutboxRow.chat_id.in_([private[0], *private[3 * CHUNK :]]),
            )
        )
        article.fanout_after = cursor
    async with rig(sessions, catalog, fanout_chunk=CHUNK) as r:
        await r.ingestor.fan_out()
    assert await rows_by_kind(sessions) == {"channel": 1, "private": READERS - 1}
    assert (await cursors(sessions))["Tbilisi new"] is None


async def test_rows_are_written_a_window_ahead_of_the_sender(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Without a drain, a fan-out stops once ``ahead`` rows wait to be sent, and goes on
    when the sender has used them up; the cursor keeps its place meanwhile."""
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
        article = NewArticle(
            key="window",
            url="https://caucasus-wire.example/window/",
            canonical_url="https://caucasus-wire.example/window/",
            title="Tbilisi",
            summary="",
            language="en",
            regions=("georgia",),
            feed_id=None,
            published_at=None,
            announced=True,
        )
        await apply_plan(session, Plan(0, "window", [article]), FakeClock().now())

    @contextlib.asynccontextmanager
    async def write() -> AsyncIterator[AsyncSession]:
        async with sessions.begin() as session:
            yield session

    fanout = FanOut(
        write, FakeClock(), unmatched_to_all=True, on_enqueued=lambda: None, chunk=CHUNK, ahead=60
    )
    assert await fanout._round() == (True, True)  # 50 rows
    assert await fanout._round() == (True, True)  # 50 waiting < 60: 50 more
    assert await fanout._round() == (True, False)  # 100 waiting: enough
    assert await rows_by_kind(sessions) == {"private": 2 * CHUNK}
    async with sessions.begin() as session:  # the sender sent 45 of them
        sent = select(OutboxRow.id).order_by(OutboxRow.id).limit(45).scalar_subquery()
        await session.execute(update(OutboxRow).where(OutboxRow.id.in_(sent)).values(state="sent"))
    assert await fanout._round() == (True, True)
    assert await rows_by_kind(sessions) == {"private": 3 * CHUNK}
    await fanout.drain()  # the rest at once, window or not
    assert await rows_by_kind(sessions) == {"private": READERS}
    assert await fanout._round() == (False, False)
