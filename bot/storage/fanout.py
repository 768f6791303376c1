"""The private fan-out of an article: outbox rows for private chats, in chunks, after it.

The ingest transaction writes an article with its channel and group deliveries only
(:func:`shared_chats`) and marks it ``fanout_after = 0``. The private rows follow in
chunks of private chats in id order (:func:`fan_out_chunk`): each chunk's rows and the
article's cursor are committed together, so a process that dies mid fan-out resumes at
the first chunk it did not commit, and a chunk done twice (two processes, a replay)
adds nothing (``ON CONFLICT DO NOTHING`` on (article, chat)). A reader who subscribes
while an article fans out gets it when the cursor has not passed them yet. The runner
(:mod:`scheduler.ingest.fanout`) keeps only a window of rows ahead of the sender.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.deliveries import enqueue_article
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from bot.storage.planner import is_sqlite, unindexed

#: Private chats per chunk: large enough that the per-chunk statements cost little,
#: small enough that one chunk holds the write lock for a fraction of a second.
CHUNK = 25_000


#: Chats that many readers share: enqueued in the article's own transaction.
SHARED_KINDS = ("channel", "supergroup", "group")


def shared_chats() -> ColumnElement[bool]:
    """Channels and groups (an index on the kind finds the few among many private chats)."""
    return ChatRow.__table__.c.kind.in_(SHARED_KINDS)


def private_chats(after: int, upto: int | None, *, sqlite: bool = False) -> ColumnElement[bool]:
    """Private chats with ``after < id <= upto`` (no upper bound when ``upto`` is None).

    On SQLite the range is read in id order, the kind filtered
    (:func:`bot.storage.planner.unindexed`): through the (kind, id) index, each chat's row
    was one more search, a fifth of a second per million chats (``bench/enqueue.py``).
    """
    chat = ChatRow.__table__.c
    among = and_(unindexed(chat.kind, sqlite=sqlite) == "private", chat.id > after)
    return among if upto is None else and_(among, chat.id <= upto)


@dataclass(frozen=True, slots=True)
class Pending:
    """An article whose private fan-out is not finished, and where it stands."""

    article_id: int
    language: str
    regions: tuple[str, ...]
    breaking: bool
    after: int


def _pending_query() -> Select[int, str, str, bool, int | None]:
    return select(
        ArticleRow.id,
        ArticleRow.language,
        ArticleRow.regions,
        ArticleRow.breaking,
        ArticleRow.fanout_after,
    ).where(ArticleRow.fanout_after.is_not(None))


def _pending(row: Row[int, str, str, bool, int | None]) -> Pending:
    article_id, language, regions, breaking, after = row
    return Pending(article_id, language, tuple(regions.split()), bool(breaking), int(after or 0))


async def pending_fanouts(session: AsyncSession, limit: int = 20) -> list[int]:
    """Ids of the articles still fanning out, oldest first (from a partial index)."""
    rows = await session.scalars(
        select(ArticleRow.id)
        .where(ArticleRow.fanout_after.is_not(None))
        .order_by(ArticleRow.id)
        .limit(limit)
    )
    return list(rows)


async def open_rows_at_least(session: AsyncSession, article_id: int, count: int) -> bool:
    """Whether the article has ``count`` or more rows still waiting to be sent (read
    no further than that)."""
    row = await session.scalar(
        select(OutboxRow.id)
        .where(OutboxRow.article_id == article_id, OutboxRow.state.in_(("pending", "retry")))
        .offset(count - 1)
        .limit(1)
    )
    return row is not None


async def chunk_end(session: AsyncSession, after: int, size: int) -> int | None:
    """The id of the ``size``-th private chat after ``after``; None when fewer are left."""
    chat = ChatRow.__table__.c
    return await session.scalar(
        select(chat.id)
        .where(chat.kind == "private", chat.id > after)
        .order_by(chat.id)
        .offset(size - 1)
        .limit(1)
    )


async def chunk_started(
    session: AsyncSession, article_id: int, after: int, upto: int | None
) -> bool:
    """Whether the article has a row for a chat with ``after < id <= upto`` already: a
    chunk done before, in part or whole. Asked as the lowest such chat, which PostgreSQL
    reads from the unique (article, chat) index whatever its statistics: a ``LIMIT 1``
    may be planned as a scan of the outbox stopped at the first match, which a fresh
    chunk never has (a fan-out fills the table faster than autovacuum analyzes it)."""
    among = and_(OutboxRow.article_id == article_id, OutboxRow.chat_id > after)
    if upto is not None:
        among = and_(among, OutboxRow.chat_id <= upto)
    return await session.scalar(select(func.min(OutboxRow.chat_id)).where(among)) is not None


async def fan_out_chunk(
    session: AsyncSession,
    article_id: int,
    now: datetime,
    *,
    unmatched_to_all: bool = True,
    known_topics: Sequence[str] | None = None,
    size: int = CHUNK,
) -> tuple[int, bool]:
    """The next chunk of the article's private rows and its new cursor, in the caller's
    transaction; returns (rows created, whether the fan-out is finished).

    The cursor is read here, under a row lock on PostgreSQL, so two runners (another
    process, a replay) never move it back: at worst they do one chunk twice. Under that
    lock nothing else writes the article's private rows, so a chunk with none yet
    (:func:`chunk_started`, the usual case) is inserted without ``ON CONFLICT``.
    """
    row = (
        await session.execute(_pending_query().where(ArticleRow.id == article_id).with_for_update())
    ).one_or_none()
    if row is None:
        return 0, True
    pending = _pending(row)
    if session.get_bind().dialect.name == "postgresql":
        # The chunk's commit does not wait for its WAL to reach the disk (megabytes a
        # chunk). A crash may lose the last chunks, rows and cursor together, which are
        # then done again; the sender's own commits are synchronous and flush this WAL
        # first, so no row is claimed, sent or marked on a chunk that could be lost.
        await session.execute(text("SET LOCAL synchronous_commit = off"))
    upto = await chunk_end(session, pending.after, size)
    rows = await enqueue_article(
        session,
        pending.article_id,
        pending.language,
        pending.regions,
        now,
        unmatched_to_all=unmatched_to_all,
        breaking=pending.breaking,
        among=private_chats(pending.after, upto, sqlite=is_sqlite(session)),
        known_topics=known_topics,
        fresh=not await chunk_started(session, pending.article_id, pending.after, upto),
    )
    await session.execute(
        update(ArticleRow).where(ArticleRow.id == pending.article_id).values(fanout_after=upto)
    )
    return rows, upto is None
