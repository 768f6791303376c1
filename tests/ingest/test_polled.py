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


async def test_a_304s_whole_polling_state_is_written_as_given(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Every column a 304 writes, None and booleans included (arrays on PostgreSQL)."""
    ids = await add_feeds(sessions)
    polling = polling_state(sessions)
    now, due = datetime(2030, 1, 1, 12, 0), datetime(2030, 1, 1, 12, 1, 30)
    values: dict[str, Any] = {
        "etag": None,
        "last_modified": "Mon, 01 Jan 2024 10:00:00 GMT",
        "initialized": True,
        "consecutive_failures": 0,
        "last_error": None,
        "last_polled_at": now,
        "last_success_at": now,
        "hold_until": None,
        "ttl_seconds": 900,
        "idle_polls": 7,
        "next_poll_at": due,
        "alerted": False,
        "moved_to": "https://news.example/moved/",
        "moved_count": 2,
    }
    first, second = list(ids.values())[:2]
    await asyncio.gather(
        polling.write({**values, "feed_id": first}),
        polling.write({**values, "feed_id": second, "etag": '"2"', "idle_polls": 1}),
    )
    async with sessions() as session:
        rows = {
            row.id: row
            for row in await session.scalars(select(FeedRow).where(FeedRow.id.in_(ids.values())))
        }
    for feed_id, changed in ((first, {}), (second, {"etag": '"2"', "idle_polls": 1})):
        assert {name: getattr(rows[feed_id], name) for name in values} == {**values, **changed}
    untouched = [row for feed_id, row in rows.items() if feed_id not in (first, second)]
    assert all(row.idle_polls == 0 and row.last_polled_at is None for row in untouched)
