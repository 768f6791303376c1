"""Readers of several editions get each story once, in the first of their languages it is in."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, insert_article
from bot.storage.chats import set_chat_regions
from bot.storage.deliveries import enqueue_article
from bot.storage.editions import add_chat_language, chat_languages, remove_chat_language
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from tests.crash.support import reader_row

NOW = datetime(2026, 3, 2, 10, 0)


def url(key: str, lang: str) -> str:
    return f"https://example.org/{lang}/{key}/"


async def _reader(session: AsyncSession, address: str, *languages: str) -> int:
    row = ChatRow(**{**reader_row(address, NOW), "language": languages[0]})
    session.add(row)
    await session.flush()
    await set_chat_regions(session, row.id, ["georgia"])
    for lang in languages[1:]:
        assert await add_chat_language(session, row, lang)
    return row.id


async def _publish(
    sessions: async_sessionmaker[AsyncSession], key: str, lang: str, *others: str
) -> int:
    """One language version of story ``key``, linked to its versions in ``others``."""
    async with sessions.begin() as session:
        link = url(key, lang)
        article = NewArticle(
            key=f"{key}-{lang}",
            url=link,
            canonical_url=link,
            title=f"{key} in {lang}",
            summary="",
            language=lang,
            regions=("georgia",),
            feed_id=None,
            published_at=NOW,
            announced=True,
        )
        article_id = await insert_article(session, article, NOW)
        alternates = json.dumps([[other, url(key, other)] for other in others])
        await session.execute(
            update(ArticleRow).where(ArticleRow.id == article_id).values(alternates=alternates)
        )
        await enqueue_article(session, article_id, lang, ["georgia"], NOW)
    return article_id


async def _received(sessions: async_sessionmaker[AsyncSession], chat: int) -> list[str]:
    async with sessions() as session:
        keys = await session.scalars(
            select(ArticleRow.key)
            .join(OutboxRow, OutboxRow.article_id == ArticleRow.id)
            .where(OutboxRow.chat_id == chat)
            .order_by(ArticleRow.key)
        )
    return list(keys)


async def test_each_story_once_in_the_first_language_it_exists_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        ru_en = await _reader(session, "1", "ru", "en")
        en_ru = await _reader(session, "2", "en", "ru")
        en_only = await _reader(session, "3", "en")
        ru_only = await _reader(session, "4", "ru")
    # Story a: English first, linking to a Russian version not stored yet; then Russian.
    await _publish(sessions, "a", "en", "ru")
    await _publish(sessions, "a", "ru", "en")
    # Story b: Russian first, then English.
    await _publish(sessions, "b", "ru", "en")
    await _publish(sessions, "b", "en", "ru")
    # Story c: English only. Story d: English without links, its Russian version links back.
    await _publish(sessions, "c", "en")
    await _publish(sessions, "d", "en")
    await _publish(sessions, "d", "ru", "en")
    assert await _received(sessions, ru_en) == ["a-ru", "b-ru", "c-en", "d-en"]
    assert await _received(sessions, en_ru) == ["a-en", "b-en", "c-en", "d-en"]
    assert await _received(sessions, en_only) == ["a-en", "b-en", "c-en", "d-en"]
    assert await _received(sessions, ru_only) == ["a-ru", "b-ru", "d-ru"]


async def test_languages_are_kept_in_order_and_removed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        pk = await _reader(session, "1", "en", "ka", "ru")
        row = await session.get(ChatRow, pk)
        assert row is not None
        assert not await add_chat_language(session, row, "en")
        assert not await add_chat_language(session, row, "ka")
        assert await chat_languages(session, pk) == ["ka", "ru"]
        await remove_chat_language(session, pk, "ka")
        assert await add_chat_language(session, row, "hy")
        assert await chat_languages(session, pk) == ["ru", "hy"]
