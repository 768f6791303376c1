"""The feeds aggregate: each catalog feed's polling state row."""

from __future__ import annotations

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    FeedRow,
)


async def ensure_feed(session: AsyncSession, url: str) -> FeedRow:
    """The polling state row of a catalog feed, created on first sight."""
    row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
    if row is None:
        row = FeedRow(url=url, current_url=url, initialized=False, disabled=False)
        row.consecutive_failures = 0
        row.alerted = False
        session.add(row)
        await session.flush()
    return row


async def touch_feed(session: AsyncSession, feed_id: int, **values: object) -> None:
    await session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(**values))
