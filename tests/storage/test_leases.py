"""The lease statements of ``bot.storage.leases`` on a real PostgreSQL: a term is taken
once, renewed and ended only by its holder, and a fence passes only in the current term.
SQLite has no leases: one process leads there."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage import leases
from bot.storage.leases import Term

TTL = 60.0
IDLE_MS = 3000


async def test_sqlite_needs_no_lease_and_postgresql_does(engine: AsyncEngine) -> None:
    assert leases.needed(engine) is (engine.dialect.name == "postgresql")


async def test_a_lease_is_taken_once_and_passed_on_only_when_released(
    engine: AsyncEngine,
) -> None:
    if not leases.needed(engine):
        pytest.skip("SQLite has no leases: one process leads")
    assert await leases.take(engine, "sender", "a", TTL) == 1
    assert await leases.take(engine, "sender", "b", TTL) is None
    assert await leases.take(engine, "scheduler", "b", TTL) == 1  # another part's lease
    first = Term("sender", "a", 1)
    assert await leases.renew(engine, first, TTL)
    assert not await leases.renew(engine, Term("sender", "b", 1), TTL)
    await leases.release(engine, first)
    assert not await leases.renew(engine, first, TTL)  # ended: not renewed
    assert await leases.take(engine, "sender", "b", TTL) == 2
    # Its holder takes a lease it still holds again, in a new epoch.
    assert await leases.take(engine, "sender", "b", TTL) == 3


async def test_a_fence_passes_only_in_the_current_term(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if not leases.needed(engine):
        pytest.skip("SQLite has no leases: one process leads")
    assert await leases.take(engine, "scheduler", "a", TTL) == 1
    await leases.release(engine, Term("scheduler", "a", 1))
    assert await leases.take(engine, "scheduler", "b", TTL) == 2
    for term, current in ((Term("scheduler", "a", 1), False), (Term("scheduler", "b", 2), True)):
        async with sessions.begin() as session:
            assert await leases.fence(session, term, IDLE_MS) is current
        async with sessions.begin() as session:
            confirmed = await session.run_sync(lambda s, t=term: leases.confirm(s, t, IDLE_MS))
            assert confirmed is current
