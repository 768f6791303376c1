"""Writes that report how many rows they touched, and batched deletes for retention.

Retention and the inbox's pruning delete at most a small batch per transaction, so a
long backlog never holds a lock for long; neither database has a portable
``DELETE ... LIMIT``, so the batch is chosen by a subquery of keys.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.upsert import insert_ignoring_conflicts


def affected(result: object) -> int:
    """Rows an UPDATE, DELETE or INSERT touched (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def first_keys(
    key: InstrumentedAttribute[Any], *where: ColumnElement[bool], batch: int
) -> ScalarSelect[Any]:
    """The keys of at most ``batch`` rows matching ``where``, for ``key.in_(...)``."""
    return select(key).where(*where).limit(batch).scalar_subquery()


async def delete_batch(
    session: AsyncSession, key: InstrumentedAttribute[Any], *where: ColumnElement[bool], batch: int
) -> int:
    """Delete at most ``batch`` rows of ``key``'s table matching ``where``; how many went."""
    ids = first_keys(key, *where, batch=batch)
    return affected(await session.execute(delete(key.class_).where(key.in_(ids))))


async def insert_once(session: AsyncSession, table: type[object], **values: object) -> bool:
    """Insert one row unless a unique key already holds one like it; True when inserted."""
    stmt = insert_ignoring_conflicts(session, table).values(**values).on_conflict_do_nothing()
    return bool(affected(await session.execute(stmt)))
