"""Queries of the ``ingest_replays`` table: signed CMS pushes already accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.batches import insert_once
from bot.storage.models import IngestReplayRow


async def accept_once(
    session: AsyncSession, signature: str, expires_at: datetime, now: datetime
) -> bool:
    """Record ``signature`` as accepted; False when it already was (a repeat).

    The primary key decides, so two processes receiving the same request at once
    cannot both act on it. Signatures whose window has passed are deleted on the way:
    the table holds at most one window's worth of pushes.
    """
    await session.execute(delete(IngestReplayRow).where(IngestReplayRow.expires_at < now))
    return await insert_once(session, IngestReplayRow, signature=signature, expires_at=expires_at)
