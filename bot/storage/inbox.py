"""Queries of the update inbox: store before acknowledging, handle in order, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.batches import affected, delete_batch
from bot.storage.models import InboxRow
from bot.storage.upsert import insert_ignoring_conflicts


async def store_updates(
    session: AsyncSession, updates: Sequence[tuple[int, str]], now: datetime
) -> int:
    """Insert ``(update_id, json)`` pairs; one seen before (delivered again) is ignored.

    Returns how many were new.
    """
    if not updates:
        return 0
    rows = [
        {"update_id": uid, "payload": payload, "received_at": now, "attempts": 0}
        for uid, payload in updates
    ]
    stmt = insert_ignoring_conflicts(session, InboxRow).values(rows).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return affected(result)


async def pending_updates(session: AsyncSession, limit: int) -> list[tuple[int, str]]:
    """Unhandled updates, oldest first."""
    rows = await session.execute(
        select(InboxRow.update_id, InboxRow.payload)
        .where(InboxRow.handled_at.is_(None))
        .order_by(InboxRow.update_id)
        .limit(limit)
    )
    return [(int(uid), str(payload)) for uid, payload in rows]


async def count_pending(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None))
        )
        or 0
    )


async def mark_handled(session: AsyncSession, update_id: int, now: datetime) -> None:
    await session.execute(
        update(InboxRow)
        .where(InboxRow.update_id == update_id)
        .values(handled_at=now, attempts=InboxRow.attempts + 1)
    )


async def prune_handled(session: AsyncSession, before: datetime, batch: int) -> int:
    """Delete up to ``batch`` updates handled before ``before``; returns how many."""
    handled = (InboxRow.handled_at.is_not(None), InboxRow.handled_at < before)
    return await delete_batch(session, InboxRow.update_id, *handled, batch=batch)
