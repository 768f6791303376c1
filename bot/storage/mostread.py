"""The most-read cache: one stored list per language (JSON items), its age and last error.

``bot.mostread`` reads and writes it (the items' shape is its business); the scheduler's
refresh fills it, drops a list when it has nothing to rank and notes why a source
failed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import MostReadRow


async def cached_lists(session: AsyncSession) -> list[MostReadRow]:
    """Every language's cached list (for the operators' status)."""
    return list(await session.scalars(select(MostReadRow)))


async def cached_list(session: AsyncSession, language: str) -> MostReadRow | None:
    return await session.get(MostReadRow, language)


async def store_list(session: AsyncSession, language: str, items_json: str, now: datetime) -> None:
    """Replace ``language``'s list: fetched now, its last error cleared."""
    row = await session.get(MostReadRow, language)
    if row is None:
        session.add(MostReadRow(language=language, items_json=items_json, fetched_at=now))
    else:
        row.items_json = items_json
        row.fetched_at = now
        row.error = None


async def drop_list(session: AsyncSession, language: str) -> None:
    """Forget the language's cached list, so the newest articles serve instead."""
    row = await session.get(MostReadRow, language)
    if row is not None:
        await session.delete(row)


async def note_list_error(session: AsyncSession, language: str, error: str) -> None:
    """Note why the language's source failed on its cached list (which stays served);
    nothing when no list was ever cached."""
    row = await session.get(MostReadRow, language)
    if row is not None:
        row.error = error
