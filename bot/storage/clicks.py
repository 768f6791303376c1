"""Taps on tracked links (``/r/{token}``): one row per reader, target and day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.batches import insert_once
from bot.storage.models import ClickRow


async def readers_from_address(
    session: AsyncSession, day: date, address: str, target: str, kind: str
) -> int:
    """How many readers one address already counts as for ``target`` on ``day``."""
    readers = await session.scalar(
        select(func.count())
        .select_from(ClickRow)
        .where(
            ClickRow.day == day,
            ClickRow.address == address,
            ClickRow.target == target,
            ClickRow.kind == kind,
        )
    )
    return int(readers or 0)


async def add_click(
    session: AsyncSession,
    *,
    kind: str,
    target: str,
    url: str,
    language: str,
    regions: str,
    reader: str,
    address: str,
    now: datetime,
) -> bool:
    """Store the tap; False when this reader already tapped this target today."""
    return await insert_once(
        session,
        ClickRow,
        kind=kind,
        target=target,
        url=url,
        language=language[:8],
        regions=regions[:512],
        reader=reader,
        address=address,
        day=now.date(),
        created_at=now,
    )
