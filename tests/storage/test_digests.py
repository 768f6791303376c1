"""The readers' scheduled lists in storage: who is listed for a digest or a weekly list,
the claim of a day or week (one winner), and the day's articles with what was received."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, article_topics, insert_article
from bot.storage.chats import ensure_private_chat
from bot.storage.deliveries import enqueue_article
from bot.storage.digests import (
    claim_digest,
    claim_weekly,
    day_articles,
    digest_subscribers,
    weekly_readers,
)
from bot.storage.models import ChatRegionRow, OutboxRow

NOW = datetime(2026, 3, 2, 9, 0)


def article(key: str, language: str = "en", topics: tuple[str, ...] = ()) -> NewArticle:
    return NewArticle(
        key=key,
        url=f"https://caucasus-wire.example/{key}/",
        canonical_url=f"https://caucasus-wire.example/{key}/",
        title=f"Story {key}",
        summary="The council met on Monday in Tbilisi.",
        language=language,
        regions=("georgia",),
        feed_id=None,
        published_at=None,
        announced=True,
        topics=topics,
    )


async def reader(session: AsyncSession, chat_id: int, **values: object) -> int:
    row = await ensure_private_chat(session, chat_id, "Reader", "en", NOW)
    for name, value in values.items():
        setattr(row, name, value)
    session.add(ChatRegionRow(chat_id=row.id, region="georgia"))
    await session.flush()
    return row.id


async def test_digest_and_weekly_list_only_active_unpaused_readers_who_chose_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        digest = await reader(session, 1, mode="digest", digest_when_empty=True)
        await reader(session, 2, mode="digest", paused=True)
        await reader(session, 3, mode="digest", active=False)
        await reader(session, 4, mode="instant", weekly_mostread=True)
        await reader(session, 5, mode="instant")
    async with sessions() as session:
        subs = await digest_subscribers(session)
        weekly = await weekly_readers(session)
    assert [(s.pk, s.address, s.when_empty, s.last_digest_at) for s in subs] == [
        (digest, "1", True, None)
    ]
    assert [r.address for r in weekly] == ["4"]


async def test_a_day_or_week_is_claimed_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        pk = await reader(session, 1, mode="digest")
    async with sessions.begin() as session:
        assert await claim_digest(session, pk, None, NOW)
        assert not await claim_digest(session, pk, None, NOW)  # read before the first claim
        assert await claim_weekly(session, pk, None, NOW)
        assert not await claim_weekly(session, pk, None, NOW)
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        assert await claim_digest(session, pk, NOW, later)
    async with sessions() as session:
        (sub,) = await digest_subscribers(session)
    assert sub.last_digest_at == later


async def test_the_days_articles_say_which_the_reader_received(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        pk = await reader(session, 1, mode="instant")
        old = await insert_article(session, article("old"), NOW - timedelta(days=2))
        sent = await insert_article(session, article("sent", topics=("economy",)), NOW)
        fresh = await insert_article(session, article("fresh"), NOW + timedelta(minutes=1))
        await insert_article(session, article("russian", "ru"), NOW)
        await insert_article(session, article("future"), NOW + timedelta(hours=2))
        assert await enqueue_article(session, sent, "en", ["georgia"], NOW) == 1
        await session.execute(update(OutboxRow).values(state="sent"))
    async with sessions() as session:
        found, received = await day_articles(
            session, pk, ("en",), NOW - timedelta(days=1), NOW + timedelta(hours=1), 10
        )
        topics = await article_topics(session, [a.id for a in found])
    assert [a.id for a in found] == [sent, fresh]
    assert received == {sent}
    assert topics == {sent: {"economy"}}
    assert old not in {a.id for a in found}
