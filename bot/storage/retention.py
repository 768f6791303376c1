"""Retention queries: each deletes or shrinks at most one small batch per call, so a
long backlog is worked off in short transactions that never hold the sender up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.batches import affected, delete_batch, first_keys
from bot.storage.models import ArticleRow, ClickDayRow, ClickRow, OutboxRow, not_pending

# Deliveries whose fate is settled: nothing will send, retry or edit-track them again
# unless a correction is already queued for them (their edit rows go with them).
FINISHED = ("sent", "unknown", "dead", "dropped")


async def delete_finished_deliveries(session: AsyncSession, before: datetime, batch: int) -> int:
    """Delete up to ``batch`` settled deliveries last touched before ``before``."""
    settled = (OutboxRow.state.in_(FINISHED), not_pending(), OutboxRow.updated_at < before)
    return await delete_batch(session, OutboxRow.id, *settled, batch=batch)


async def oldest_click_day(session: AsyncSession, before: date) -> date | None:
    day = await session.scalar(select(func.min(ClickRow.day)).where(ClickRow.day < before))
    return day if isinstance(day, date) else None


async def fold_click_day(session: AsyncSession, day: date) -> int:
    """Turn one day's taps into daily counts per (kind, target); returns taps folded.

    A day folded in two runs (new taps of an old day) adds up instead of overwriting.
    """
    per_target = (
        select(
            ClickRow.day,
            ClickRow.kind,
            ClickRow.target,
            func.max(ClickRow.url),
            func.max(ClickRow.language),
            func.max(ClickRow.regions),
            func.count(),
        )
        .where(ClickRow.day == day)
        .group_by(ClickRow.day, ClickRow.kind, ClickRow.target)
    )
    columns = ["day", "kind", "target", "url", "language", "regions", "taps"]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ClickDayRow).from_select(columns, per_target)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "kind", "target"],
        set_={"taps": ClickDayRow.taps + stmt.excluded.taps},
    )
    await session.execute(stmt)
    result = await session.execute(delete(ClickRow).where(ClickRow.day == day))
    return affected(result)


async def drop_article_bodies(session: AsyncSession, before: datetime, batch: int) -> int:
    """Empty the summary of up to ``batch`` articles first seen before ``before``.

    The row stays, with its key, URLs and title: dedup and links to it keep working.
    """
    ids = first_keys(
        ArticleRow.id, ArticleRow.created_at < before, ArticleRow.summary != "", batch=batch
    )
    result = await session.execute(
        update(ArticleRow).where(ArticleRow.id.in_(ids)).values(summary="")
    )
    return affected(result)
