"""Deleting a chat or an article takes its deliveries with it (the outbox has no foreign
keys since migration 0025), and the edits queued for them, and nothing else."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.forget import forget_article, forget_chat
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from tests.crash.support import add_private_readers, now, reader_ids


async def two_stories(session: AsyncSession) -> tuple[list[int], list[int]]:
    """Two readers, two articles to both, and an edit queued for each post; returns the
    chats' and the articles' ids."""
    await add_private_readers(session, reader_ids(2), "georgia")
    chats = list(await session.scalars(select(ChatRow.id).order_by(ChatRow.id)))
    articles = []
    for key in ("one", "two"):
        article = NewArticle(
            key=key,
            url=f"https://caucasus-wire.example/{key}/",
            canonical_url=f"https://caucasus-wire.example/{key}/",
            title=f"Story {key}",
            summary="The council met on Monday in Tbilisi.",
            language="en",
            regions=("georgia",),
            feed_id=None,
            published_at=None,
            announced=True,
        )
        articles.append(await insert_article(session, article, now()))
        assert await enqueue_article(session, articles[-1], "en", ["georgia"], now()) == 2
    posts = (await session.execute(select(OutboxRow.id, OutboxRow.chat_id))).all()
    for post_id, chat_id in posts:
        session.add(
            OutboxRow(
                chat_id=chat_id,
                kind="edit",
                target_id=post_id,
                state="pending",
                priority=1,
                attempts=0,
                next_attempt_at=now(),
                created_at=now(),
                updated_at=now(),
            )
        )
    await session.flush()
    return chats, articles


async def left(session: AsyncSession) -> list[tuple[int | None, int, str]]:
    rows = await session.execute(
        select(OutboxRow.article_id, OutboxRow.chat_id, OutboxRow.kind).where(
            OutboxRow.kind == "post"
        )
    )
    return sorted((a, c, k) for a, c, k in rows.all())


async def test_forget_chat_takes_its_deliveries_and_their_edits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        (gone, kept), (one, two) = await two_stories(session)
        assert await forget_chat(session, gone) == 4  # two posts, two edits of them
    async with sessions() as session:
        assert await left(session) == [(one, kept, "post"), (two, kept, "post")]
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 4
        assert await session.get(ChatRow, gone) is None
        assert await session.get(ChatRow, kept) is not None


async def test_forget_article_takes_its_deliveries_and_their_edits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        (first, second), (gone, kept) = await two_stories(session)
        assert await forget_article(session, gone) == 4
    async with sessions() as session:
        assert await left(session) == [(kept, first, "post"), (kept, second, "post")]
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 4
        assert await session.get(ArticleRow, gone) is None
