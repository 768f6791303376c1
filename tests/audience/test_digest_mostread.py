"""Digests end with a short most-read block: top three for the reader's regions, in limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Translator
from bot.mostread import MostReadItem, MostReadStore
from bot.storage.articles import NewArticle, insert_article
from bot.storage.models import ChatRow, OutboxRow
from bot.text.utf16 import utf16_len
from scheduler.digest import DigestJob
from tests.audience.revenue import revenue_catalog, running
from tests.audience.support import (
    NOON,
    add_private_reader,
    next_from_bot,
    publish,
    queued,
    run_and_send,
)
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.fakes.html_rules import parse_telegram_html

READER = 7201
HEADING = "Most read right now"
TOP = [
    MostReadItem("Top Georgia one", "https://caucasus-wire.example/top-1/", ("georgia",)),
    MostReadItem("Top Armenia only", "https://caucasus-wire.example/top-2/", ("armenia",)),
    # No region (outlet-wide, or no known article): for every reader.
    MostReadItem("Top Georgia two & <i>more</i>", "https://caucasus-wire.example/top-3/", ()),
    MostReadItem("Top Georgia three", "https://caucasus-wire.example/top-4/", ("georgia",)),
    MostReadItem("Top Georgia four", "https://caucasus-wire.example/top-5/", ("georgia",)),
]


async def test_digest_ends_with_the_readers_most_read(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, running(api, database_url, clock, revenue_catalog()) as parts:
        api.push_message(READER, READER, "/start georgia-en", language_code="en")
        await next_from_bot(api, READER, "sendMessage", 1)
        async with parts.sessions.begin() as session:
            await session.execute(
                update(ChatRow)
                .where(ChatRow.address == str(READER))
                .values(mode="digest", last_digest_at=NOON - timedelta(hours=1))
            )
            await parts.services.mostread.save(session, "en", TOP, NOON)
        clock.advance(hours=1)
        await publish(parts, "g1", "Tbilisi news", "en", ("georgia",), clock.now())
        await publish(parts, "g2", "Batumi port expands", "en", ("georgia",), clock.now())
        clock.advance(hours=23)  # 14:00 in Tbilisi the next day: the 08:00 digest is due
        job = DigestJob(
            parts.services.catalog,
            parts.translator,
            parts.sessions,
            clock,
            mostread=parts.services.mostread,
        )
        before = len(api.messages_to(READER))
        assert await run_and_send(parts, job.run) == 1
        digest = api.messages_to(READER)[before:]
        assert len(digest) == 1
        text = digest[0].plain_text
        assert "2 new articles" in text and HEADING in text
        block = text[text.index(HEADING) :]
        assert text.index("Batumi port expands") < text.index(HEADING)  # after the articles
        assert "Top Georgia one" in block and "Top Georgia two & <i>more</i>" in block
        assert "Top Georgia three" in block
        assert "Top Armenia only" not in block and "Top Georgia four" not in block  # 3 at most
        links = {e.url for e in digest[0].entities if e.type == "text_link"}
        assert {TOP[0].url, TOP[2].url, TOP[3].url} <= links
        assert api.limit_violations == 0


CATALOG = make_catalog([])
TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


async def _reader(sessions: async_sessionmaker[AsyncSession], now: datetime, lang: str) -> None:
    async with sessions.begin() as session:
        await add_private_reader(
            session,
            "4343",
            ["georgia"],
            now,
            language=lang,
            mode="digest",
            timezone="Asia/Tbilisi",
            digest_minute=8 * 60,
            last_digest_at=now,
        )


async def _articles(sessions: async_sessionmaker[AsyncSession], at: datetime, count: int) -> None:
    async with sessions.begin() as session:
        for n in range(count):
            title = f"Story {n} " + "with a rather long headline about the day " * 4
            url = f"https://x.example/{n}"
            article = NewArticle(f"k{n}", url, url, title, "", "ru", ("georgia",), None, at, True)
            await insert_article(session, article, at + timedelta(minutes=n))


async def _digest(
    sessions: async_sessionmaker[AsyncSession], store: MostReadStore, now: datetime
) -> list[str]:
    job = DigestJob(CATALOG, TR, sessions, FakeClock(now), mostread=store)
    assert await job.run() == 1
    sent = [text for _, text in await queued(sessions, "digest")]
    async with sessions.begin() as session:  # sent, as far as the next digest is concerned
        await session.execute(update(OutboxRow).values(state="sent"))
    return sent


async def test_long_digest_splits_and_keeps_the_block_whole_at_the_end(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime(2026, 3, 1, 4, 30)
    await _reader(sessions, start, "ru")
    await _articles(sessions, start + timedelta(minutes=10), 80)
    store = MostReadStore(sessions, "clicks", 6)
    long_titles = [
        MostReadItem(f"Самое {n} " + "очень длинный заголовок " * 30, f"https://x.example/t{n}")
        for n in range(6)
    ]
    async with sessions.begin() as session:
        await store.save(session, "ru", long_titles, start)
    sent = await _digest(sessions, store, datetime(2026, 3, 2, 4, 30))
    texts = [parse_telegram_html(text)[0] for text in sent]
    assert len(texts) >= 3 and all(utf16_len(text) <= 4096 for text in texts)
    heading = TR.plain("ru", "digest.mostread_heading")
    assert [heading in text for text in texts] == [False] * (len(texts) - 1) + [True]
    block = texts[-1][texts[-1].index(heading) :]
    assert "Самое 0 " in block and "Самое 2 " in block and "Самое 3 " not in block
    whole = "\n".join(texts)
    assert all(f"Story {n} " in whole for n in range(80))


async def test_no_block_without_a_real_list_but_an_empty_digest_still_gets_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime(2026, 3, 1, 4, 30)
    await _reader(sessions, start, "ru")
    await _articles(sessions, start + timedelta(minutes=10), 2)
    # Source "latest": the newest articles are what the digest lists already.
    sent = await _digest(
        sessions, MostReadStore(sessions, "latest", 6), datetime(2026, 3, 2, 4, 30)
    )
    heading = TR.plain("ru", "digest.mostread_heading")
    assert len(sent) == 1 and "Story 1 " in sent[0] and heading not in sent[0]

    # The next day nothing new, but the cached list is there: a reader who asked for the
    # digest on such days gets both.
    async with sessions.begin() as session:
        await session.execute(update(ChatRow).values(digest_when_empty=True))
    store = MostReadStore(sessions, "clicks", 6)
    async with sessions.begin() as session:
        await store.save(session, "ru", [MostReadItem("Главное", "https://x.example/m")], start)
    sent = await _digest(sessions, store, datetime(2026, 3, 3, 4, 30))
    assert len(sent) == 1
    assert sent[0].startswith(TR.gettext("ru", "digest.empty"))
    assert heading in sent[0] and "Главное" in sent[0]
