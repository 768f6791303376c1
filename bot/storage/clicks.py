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


async def most_tapped_urls(
    session: AsyncSession, language: str, since: datetime, limit: int
) -> list[str]:
    """The URLs of ``language``'s articles whose Read-more was tapped since ``since``, by
    distinct readers, at most ``limit``.

    A click row is already unique per reader and day; counting distinct readers
    makes one reader tapping every day count once. Ties go to the newer tap.
    """
    readers = func.count(func.distinct(ClickRow.reader))
    ranking = (
        select(ClickRow.url, readers.label("readers"), func.max(ClickRow.created_at))
        .where(
            ClickRow.kind == "article",
            ClickRow.language == language,
            ClickRow.created_at >= since,
        )
        .group_by(ClickRow.url)
        .order_by(readers.desc(), func.max(ClickRow.created_at).desc())
        .limit(limit)
    )
    return [url for url, _count, _last in await session.execute(ranking)]
