"""The readers' scheduled lists: who may be due a daily digest or a weekly most-read list,
the claim of their day or week, and the day's articles a digest picks from.

A claim is a compare-and-set of the chat's ``last_digest_at`` (``last_weekly_at``): it
succeeds only when the column still holds what the job read, so of two processes that
read the same reader only one queues the list. The caller makes the claim and queues the
messages in one transaction, so a failure leaves the day unclaimed (and a fenced
scheduler session refuses both: ``bot.fencing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.batches import affected
from bot.storage.models import ArticleRow, ChatRow, OutboxRow

#: Outbox states of a post the reader has (or may have) received: left out of a digest.
RECEIVED = ("sent", "inflight", "unknown", "claimed")
#: Chats read per round trip while listing the readers of a job.
_YIELD_PER = 1000


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A private reader in digest mode, as the digest job reads them."""

    pk: int
    address: str
    language: str
    timezone: str
    digest_minute: int
    last_digest_at: datetime | None
    when_empty: bool = False  # also on days without news (the reader asked for it)


@dataclass(frozen=True, slots=True)
class WeeklyReader:
    """A chat that opted in to the weekly most-read list."""

    pk: int
    address: str
    thread_id: int
    language: str
    timezone: str
    minute: int
    last_weekly_at: datetime | None


async def digest_subscribers(session: AsyncSession) -> list[Subscriber]:
    """Active, unpaused private readers in digest mode (streamed, whoever is due)."""
    query = select(
        ChatRow.id,
        ChatRow.address,
        ChatRow.language,
        ChatRow.timezone,
        ChatRow.digest_minute,
        ChatRow.last_digest_at,
        ChatRow.digest_when_empty,
    ).where(
        ChatRow.kind == "private",
        ChatRow.active == true(),
        ChatRow.paused.is_(False),
        ChatRow.mode == "digest",
    )
    result = await session.stream(query.execution_options(yield_per=_YIELD_PER))
    return [Subscriber(*row) async for row in result]


async def weekly_readers(session: AsyncSession) -> list[WeeklyReader]:
    """Active, unpaused chats of any kind that opted in to the weekly list (streamed)."""
    query = select(
        ChatRow.id,
        ChatRow.address,
        ChatRow.thread_id,
        ChatRow.language,
        ChatRow.timezone,
        ChatRow.digest_minute,
        ChatRow.last_weekly_at,
    ).where(
        ChatRow.weekly_mostread.is_(True),
        ChatRow.active.is_(True),
        ChatRow.paused.is_(False),
    )
    result = await session.stream(query.execution_options(yield_per=_YIELD_PER))
    return [WeeklyReader(*row) async for row in result]


async def _claim(
    session: AsyncSession,
    column: InstrumentedAttribute[Any],
    chat_pk: int,
    last: datetime | None,
    now: datetime,
) -> bool:
    """Set ``column`` to ``now`` if it still holds ``last``; False when another took it."""
    claimed = await session.execute(
        update(ChatRow)
        .where(ChatRow.id == chat_pk, column.is_not_distinct_from(last))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return bool(affected(claimed))


async def claim_digest(
    session: AsyncSession, chat_pk: int, last: datetime | None, now: datetime
) -> bool:
    """Claim the reader's digest of ``now``'s day (``last`` as read by the job)."""
    return await _claim(session, ChatRow.last_digest_at, chat_pk, last, now)


async def claim_weekly(
    session: AsyncSession, chat_pk: int, last: datetime | None, now: datetime
) -> bool:
    """Claim the chat's weekly list of ``now``'s week (``last`` as read by the job)."""
    return await _claim(session, ChatRow.last_weekly_at, chat_pk, last, now)


async def day_articles(
    session: AsyncSession,
    chat_pk: int,
    languages: Sequence[str],
    since: datetime,
    until: datetime,
    limit: int,
) -> tuple[list[ArticleRow], set[int]]:
    """Announced articles in ``languages`` first stored in ``(since, until]``, oldest
    first, at most ``limit``; with the ids of those the reader already received
    (:data:`RECEIVED`), which the digest leaves out with their other editions."""
    received = exists().where(
        OutboxRow.article_id == ArticleRow.id,
        OutboxRow.chat_id == chat_pk,
        OutboxRow.state.in_(RECEIVED),
    )
    query = (
        select(ArticleRow, received)
        .where(
            ArticleRow.language.in_(list(languages)),
            ArticleRow.created_at > since,
            ArticleRow.created_at <= until,
            ArticleRow.announced == true(),
        )
        .order_by(ArticleRow.created_at, ArticleRow.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    got = {article.id for article, was_received in rows if was_received}
    return [article for article, _ in rows], got
