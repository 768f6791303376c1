"""The database write probe behind the detailed ``/healthz``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import HealthProbeRow

FORGET_AFTER = timedelta(days=1)


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
