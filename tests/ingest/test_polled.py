"""Polling state read and written for many feeds at once (``scheduler.ingest.polled``).

Polls that start together share one read; 304s that end together share one write
transaction; each poll still gets its own row, and a batch that fails fails each of its
polls (never silently drops one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.feeds import ensure_feed
from bot.storage.models import FeedRow
from scheduler.ingest.polled import PollingState

FEEDS = [f"https://news.example/feed/{n}/" for n in range(40)]


def statements(engine: AsyncEngine) -> list[str]:
    """Every statement the engine sends from now on (observed, nothing replaced)."""
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0].upper())

    return seen


def polling_state(sessions: async_sessionmaker[AsyncSession]) -> PollingState:
    lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def write() -> AsyncIterator[AsyncSession]:
        async with lock, sessions.begin() as session:
            yield session

    return PollingState(sessions, write)


async def add_feeds(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions.begin() as session:
        return {url: (await ensure_feed(session, url)).id for url in FEEDS}


async def test_polls_starting_together_share_one_read(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await add_feeds(sessions)
    polling = polling_state(sessions)
    seen = statements(engine)
    states = await asyncio.gather(*(polling.read(url) for url in [*FEEDS, "https://gone/"]))
    assert [s.id if s else None for s in states] == [*ids.values(), None]
    assert all(s.url == url for s, url in zip(states[:-1], FEEDS, strict=True) if s)
    assert seen.count("SELECT") <= 2  # the first alone, the other 40 together


async def test_304s_ending_together_share_one_transaction(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await add_feeds(sessions)
    polling = polling_state(sessions)
    seen = statements(engine)
    due = datetime(2030, 1, 1, 12, 0)
    await asyncio.gather(
        *(
            polling.write({"feed_id": feed_id, "etag": f'"{n}"', "next_poll_at": due})
            for n, feed_id in enumerate(ids.values())
        ),
        polling.write({"feed_id": ids[FEEDS[0]], "idle_polls": 3}),  # other columns
    )
    async with sessions() as session:
        rows = (await session.execute(select(FeedRow.id, FeedRow.etag, FeedRow.idle_polls))).all()
    assert {row.id: row.etag for row in rows} == {i: f'"{n}"' for n, i in enumerate(ids.values())}
    assert {row.idle_polls for row in rows if row.id == ids[FEEDS[0]]} == {3}
    assert seen.count("UPDATE") <= 4  # executemany: the first alone, then one per column set


async def test_a_failed_batch_fails_each_of_its_polls(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await add_feeds(sessions)
    polling = polling_state(sessions)
    first, second = list(ids.values())[:2]
    results = await asyncio.gather(
        polling.write({"feed_id": first, "no_such_column": 1}),
        polling.write({"feed_id": second, "no_such_column": 2}),
        return_exceptions=True,
    )
    assert all(isinstance(r, SQLAlchemyError) for r in results)
    await polling.write({"feed_id": first, "etag": '"after"'})  # the next batch goes on
    async with sessions() as session:
        assert await session.scalar(select(FeedRow.etag).where(FeedRow.id == first)) == '"after"'
    with pytest.raises(SQLAlchemyError):
        await polling.write({"feed_id": first, "no_such_column": 3})
