"""Is the database there: the bare ``SELECT 1`` of the public ``/healthz`` and of
``newsbot check --online``, and the write probe behind the detailed ``/healthz``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.storage.models import HealthProbeRow

FORGET_AFTER = timedelta(days=1)
_PING = text("SELECT 1")


async def ping(session: AsyncSession) -> None:
    """Raise unless the database answers a trivial query (reachable, accepting sessions)."""
    await session.execute(_PING)


async def ping_engine(engine: AsyncEngine) -> None:
    """:func:`ping` on a fresh connection of ``engine``, outside any session."""
    async with engine.connect() as conn:
        await conn.execute(_PING)


async def write_probe(session: AsyncSession, process: str, now: datetime) -> None:
    """Record that ``process`` wrote at ``now`` (an upsert: one row per process), and
    forget processes that have not written for a day. A read-only, full or locked
    database fails here, where ``SELECT 1`` would still answer."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(HealthProbeRow).values(process=process, probed_at=now)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["process"], set_={"probed_at": now})
    )
    await session.execute(
        delete(HealthProbeRow).where(HealthProbeRow.probed_at < now - FORGET_AFTER)
    )
