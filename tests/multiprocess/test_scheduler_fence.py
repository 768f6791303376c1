"""The scheduler's writes are fenced like the sender's claims: an old leader that has not
noticed a standby took over (its own clock still says it leads) commits nothing, neither
a poll, nor a private fan-out chunk, nor retention; the new leader's work is written
once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.fencing import fenced_sessions
from bot.leadership import Leadership, LeaseLost
from bot.retention import Retention
from bot.storage.engine import session_factory
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from tests.crash.support import add_private_readers, now, publish, reader_ids
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, catalog_for, rig

READERS = 120
CHUNK = 50


class Takeover:
    """An old scheduler leader that renews rarely (so it has not noticed anything yet),
    and a new one that takes the lease once it has run out on the server."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.old = Leadership(engine, "scheduler", ttl=60.0, renew_every=50.0)
        self.new = Leadership(engine, "scheduler", retry=0.1)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _lead(self, lead: Leadership) -> None:
        leads = asyncio.Event()

        async def work(until: asyncio.Event) -> None:
            leads.set()
            await until.wait()

        self._tasks.append(asyncio.create_task(lead.run(self._stop, work)))
        await asyncio.wait_for(leads.wait(), 10)

    async def start(self) -> None:
        await self._lead(self.old)

    async def take_over(self) -> None:
        """The lease runs out on the server's clock (as after a silent partition of the
        old leader); the new leader takes it at the next epoch."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE leases SET expires_at = expires_at - interval '1 hour' "
                    "WHERE name = 'scheduler'"
                )
            )
        await self._lead(self.new)
        assert self.new.epoch == self.old.epoch + 1

    async def close(self) -> None:
        self._stop.set()
        await asyncio.wait_for(asyncio.gather(*self._tasks), 15)


@contextlib.asynccontextmanager
async def takeover(engine: AsyncEngine) -> AsyncIterator[Takeover]:
    leads = Takeover(engine)
    await leads.start()
    try:
        yield leads
    finally:
        await leads.close()


async def private_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Private rows per article title."""
    async with sessions() as session:
        rows = await session.execute(
            select(ArticleRow.title, func.count())
            .join(OutboxRow, OutboxRow.article_id == ArticleRow.id)
            .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
            .where(ChatRow.kind == "private")
            .group_by(ArticleRow.title)
        )
        return {title: int(count) for title, count in rows}


async def wait_for(check: Callable[[], Awaitable[bool]], within: float) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + within
    while not await check():
        assert loop.time() < until, "timed out"
        await asyncio.sleep(0.05)


def story(post_id: int, title: str) -> dict[str, object]:
    return {"post_id": post_id, "title": title, "categories": ["Georgia"]}


async def test_an_old_leaders_polls_and_fan_out_are_refused_after_a_takeover(
    pg_engine: AsyncEngine,
) -> None:
    sessions = session_factory(pg_engine)
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
    async with FeedServer() as server, takeover(pg_engine) as leads:
        server.set_feed("/a/", wordpress_feed([story(1, "Tbilisi old")], site=SITE))
        catalog = catalog_for([{"url": server.url("/a/")}])
        feed = catalog.feeds[0]
        window = {"fanout_chunk": CHUNK, "fanout_ahead": CHUNK}
        async with rig(sessions, catalog, **window) as old:
            old.ingestor.write_as_leader(fenced_sessions(pg_engine, leads.old))
            await old.ingestor.poll_all()  # while it leads, its writes commit
            server.set_feed("/a/", wordpress_feed([story(2, "Tbilisi two")], site=SITE))
            assert (await old.ingestor.poll(feed, force=True)).outcome == "new"

            async def first_chunk() -> bool:
                return (await private_rows(sessions)).get("Tbilisi two") == CHUNK

            # The window holds the next chunk until the sender has used this one.
            await wait_for(first_chunk, 10)

            await leads.take_over()
            async with sessions.begin() as session:  # the sender used the first chunk
                await session.execute(update(OutboxRow).values(state="sent"))
            server.set_feed(
                "/a/",
                wordpress_feed([story(3, "Tbilisi three"), story(2, "Tbilisi two")], site=SITE),
            )
            refused = await old.ingestor.poll(feed, force=True)
            await old.ingestor.fan_out()  # its runner is refused too, and stops
            assert refused.outcome == "skipped", refused
            assert not leads.old.is_leader  # the fence told it
            assert await private_rows(sessions) == {"Tbilisi two": CHUNK}
            async with sessions() as session:
                titles = set(await session.scalars(select(ArticleRow.title)))
            assert "Tbilisi three" not in titles

        async with rig(sessions, catalog, **window) as new:
            new.ingestor.write_as_leader(fenced_sessions(pg_engine, leads.new))
            assert (await new.ingestor.poll(feed, force=True)).outcome == "new"
            await new.ingestor.fan_out()
    # Every reader has each article once: the old leader's refused work left no trace.
    assert await private_rows(sessions) == {"Tbilisi two": READERS, "Tbilisi three": READERS}
    async with sessions() as session:
        repeated = await session.scalar(
            select(func.count()).select_from(
                select(OutboxRow.article_id, OutboxRow.chat_id)
                .group_by(OutboxRow.article_id, OutboxRow.chat_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        cursors = set(await session.scalars(select(ArticleRow.fanout_after)))
    assert repeated == 0
    assert cursors == {None}


async def test_an_old_leaders_retention_and_other_writes_are_refused(
    pg_engine: AsyncEngine,
) -> None:
    """Digests, weekly lists, unpins and retention write through the same fenced sessions
    (``bot.app.leader_jobs``): retention stands for them all."""
    sessions = session_factory(pg_engine)
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(3), "georgia")
    await publish(sessions, "old-story")
    async with sessions.begin() as session:  # sent 40 days ago: retention may delete it
        long_ago = now() - timedelta(days=40)
        await session.execute(update(OutboxRow).values(state="sent", updated_at=long_ago))

    def retention(lead: Leadership) -> Retention:
        fenced = fenced_sessions(pg_engine, lead)
        return Retention(fenced, SystemClock(), keep_deliveries_days=30, keep_articles_days=365)

    async with takeover(pg_engine) as leads:
        await leads.take_over()
        # By its own clock the old leader still leads (nothing of it runs here to learn
        # otherwise): only the server can tell it, and the fence is where it does.
        assert leads.old.holds()
        with pytest.raises(LeaseLost):
            await retention(leads.old).prune()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 3
        with pytest.raises(LeaseLost):  # any write: the mechanism, not the job
            async with fenced_sessions(pg_engine, leads.old).begin() as session:
                await session.execute(update(OutboxRow).values(attempts=7))
        report = await retention(leads.new).prune()
    assert report.deliveries == 3
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0
