"""The enqueue's statements read the chats the cheap way on SQLite, whose planner has no
statistics: a fan-out chunk's range of ids in id order, a chat's regions by its id, the
few chats with quiet hours from their own index, and a channel post's chats by kind
(never every reader of the language)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.fanout import fan_out_chunk, shared_chats
from bot.storage.models import ArticleRow, ChatRow
from tests.crash.support import add_private_readers, metro_article, reader_ids, reader_row

NOW = datetime(2026, 3, 2, 10, 0)


async def plans_of(session: AsyncSession, statements: list[tuple[str, object]]) -> list[str]:
    connection = await session.connection()
    plans = []
    for sql, params in statements:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        plans.append(" | ".join(str(row[3]) for row in rows))
    return plans


async def statements_of(session: AsyncSession, starts: str, work: Awaitable[object]) -> list[str]:
    """The plans of the statements starting with ``starts`` that ``work`` runs."""
    seen: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        if sql.lstrip().startswith(starts):
            seen.append((sql, params))

    sync = (await session.connection()).sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", capture)
    try:
        await work
    finally:
        event.remove(sync, "before_cursor_execute", capture)
    assert seen, f"no statement starting with {starts!r}"
    return await plans_of(session, seen)


async def fanning_article(session: AsyncSession) -> int:
    channel = ChatRow(**{**reader_row("@wire", NOW), "kind": "channel"})
    session.add(channel)
    await add_private_readers(session, reader_ids(30), "georgia")
    article = metro_article("plans", "The new line opens next spring.")
    article_id = await insert_article(session, article, NOW)
    await session.execute(
        update(ArticleRow).where(ArticleRow.id == article_id).values(fanout_after=0)
    )
    return article_id


@pytest.fixture
def sqlite_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite's plan is deterministic on a small table")
    return sessions


async def test_sqlite_reads_a_fan_out_chunk_in_id_order(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = sqlite_sessions
    async with sessions.begin() as session:
        article_id = await fanning_article(session)
        chunk = fan_out_chunk(session, article_id, NOW, size=10)
        inserts = await statements_of(session, "INSERT INTO outbox", chunk)
    assert "SEARCH chats USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in inserts[0]
    assert "ix_chats_" not in inserts[0]
    assert "(chat_id=?)" in inserts[0] and "region=?" not in inserts[0]
    async with sessions.begin() as session:
        chunk = fan_out_chunk(session, article_id, NOW, size=10)
        quiet = await statements_of(session, "SELECT DISTINCT chats.timezone", chunk)
    assert "ix_chats_quiet" in quiet[0]


async def test_sqlite_finds_a_channel_posts_chats_by_kind(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = sqlite_sessions
    async with sessions.begin() as session:
        article_id = await fanning_article(session)
        enqueue = enqueue_article(session, article_id, "en", ["georgia"], NOW, among=shared_chats())
        inserts = await statements_of(session, "INSERT INTO outbox", enqueue)
    assert "ix_chats_kind_id" in inserts[0]
    assert "ix_chats_language_active" not in inserts[0]
