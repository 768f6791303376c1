"""The enqueue's one statement honours what each chat follows: regions, topics, keywords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, insert_article
from bot.storage.chats import set_chat_regions
from bot.storage.deliveries import enqueue_article
from bot.storage.follows import MAX_KEYWORDS, add_chat_keywords, add_chat_topics
from bot.storage.models import ChatRow, OutboxRow
from bot.text.terms import keyword_term
from tests.crash.support import reader_row

NOW = datetime(2026, 3, 2, 10, 0)


async def _reader(
    session: AsyncSession,
    address: str,
    topics: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
) -> int:
    row = ChatRow(**reader_row(address, NOW))
    session.add(row)
    await session.flush()
    await set_chat_regions(session, row.id, ["georgia"])
    await add_chat_topics(session, row.id, topics)
    pairs = [(term, k) for k in keywords if (term := keyword_term(k))]
    await add_chat_keywords(session, row.id, pairs)
    return row.id


async def _publish(
    session: AsyncSession,
    key: str,
    title: str,
    topics: tuple[str, ...] = (),
    known_topics: tuple[str, ...] | None = None,
) -> int:
    article = NewArticle(
        key=key,
        url=f"https://example.org/{key}/",
        canonical_url=f"https://example.org/{key}/",
        title=title,
        summary="More in the article.",
        language="en",
        regions=("georgia",),
        feed_id=None,
        published_at=NOW,
        announced=True,
        topics=topics,
    )
    article_id = await insert_article(session, article, NOW)
    await enqueue_article(session, article_id, "en", ["georgia"], NOW, known_topics=known_topics)
    return article_id


async def test_topics_and_keywords_narrow_a_chat_and_others_get_everything(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        everything = await _reader(session, "1")
        economy = await _reader(session, "2", topics=("economy",))
        karabakh = await _reader(session, "3", keywords=("Karabakh",))
        either = await _reader(session, "4", topics=("culture",), keywords=("ТБИЛИСИ",))
        georgian = await _reader(session, "5", keywords=("ბათუმი",))
        a_econ = await _publish(session, "e", "Lari falls", ("economy",))
        a_kara = await _publish(session, "k", "KARABAKH talks resume", ("politics",))
        a_tbil = await _publish(session, "t", "В Тбилиси открыли метро")
        a_batumi = await _publish(session, "b", "ᲑᲐᲗᲣᲛᲘ: new port", ("economy",))
        a_none = await _publish(session, "n", "Weather")
    async with sessions() as session:
        rows = (await session.execute(select(OutboxRow.chat_id, OutboxRow.article_id))).all()
    got: dict[int, set[int]] = {}
    for chat, article in rows:
        got.setdefault(chat, set()).add(article)
    assert got[everything] == {a_econ, a_kara, a_tbil, a_batumi, a_none}
    assert got[economy] == {a_econ, a_batumi}
    assert got[karabakh] == {a_kara}
    assert got[either] == {a_tbil}
    assert got[georgian] == {a_batumi}


async def test_a_topic_the_catalog_dropped_no_longer_counts_as_chosen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    catalog_topics = ("economy", "culture")  # "sport" was removed from the catalog
    async with sessions.begin() as session:
        only_sport = await _reader(session, "1", topics=("sport",))
        sport_and_economy = await _reader(session, "2", topics=("sport", "economy"))
        a_econ = await _publish(session, "e", "Lari falls", ("economy",), catalog_topics)
        a_none = await _publish(session, "n", "Weather", (), catalog_topics)
    async with sessions() as session:
        rows = (await session.execute(select(OutboxRow.chat_id, OutboxRow.article_id))).all()
    got: dict[int, set[int]] = {}
    for chat, article in rows:
        got.setdefault(chat, set()).add(article)
    assert got[only_sport] == {a_econ, a_none}  # as if it had chosen no topic
    assert got[sport_and_economy] == {a_econ}


async def test_at_most_ten_keywords(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        pk = await _reader(session, "1")
        words = [(f"word{i}", f"Word{i}") for i in range(MAX_KEYWORDS + 3)]
        added, full = await add_chat_keywords(session, pk, words[:4])
        assert len(added) == 4 and not full
        added, full = await add_chat_keywords(session, pk, words)
        assert added == [label for _, label in words[4:MAX_KEYWORDS]] and full
        assert await add_chat_keywords(session, pk, words[:1]) == ([], False)  # already there
