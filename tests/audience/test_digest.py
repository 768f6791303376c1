"""The digest: due once a day at the reader's local time, grouped, split within limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Translator
from bot.storage.articles import NewArticle, insert_article
from bot.storage.models import ChatRow, OutboxRow
from bot.text.utf16 import utf16_len
from scheduler.digest import DigestJob, Subscriber, is_due
from tests.audience.support import add_private_reader, queued
from tests.e2e.support import make_catalog
from tests.fakes.clock import FakeClock
from tests.fakes.html_rules import parse_telegram_html

CATALOG = make_catalog([])
TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


def test_due_after_the_local_digest_time_once() -> None:
    sub = Subscriber(1, "1", "en", "Asia/Tbilisi", 9 * 60, None)
    assert is_due(sub, datetime(2026, 3, 2, 5, 1))  # 09:01 local, never sent
    sent = Subscriber(1, "1", "en", "Asia/Tbilisi", 9 * 60, datetime(2026, 3, 2, 5, 1))
    assert not is_due(sent, datetime(2026, 3, 2, 20, 0))
    assert is_due(sent, datetime(2026, 3, 3, 5, 0))  # 09:00 the next day


async def _reader(session: AsyncSession, now: datetime, regions: list[str]) -> int:
    return await add_private_reader(
        session,
        "4242",
        regions,
        now,
        mode="digest",
        timezone="Asia/Yerevan",
        digest_minute=8 * 60,
        last_digest_at=now,
    )


async def _article(
    session: AsyncSession, n: int, regions: tuple[str, ...], at: datetime, lang: str = "en"
) -> int:
    title = f"Story {n} " + "with a rather long headline about the day " * 4
    return await insert_article(
        session,
        NewArticle(
            f"k{n}",
            f"https://x.example/{n}",
            f"https://x.example/{n}",
            title,
            "",
            lang,
            regions,
            None,
            at,
            True,
        ),
        at,
    )


async def test_long_digest_is_grouped_split_and_skips_received(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime(2026, 3, 1, 5, 0)  # 09:00 in Yerevan
    async with sessions.begin() as session:
        reader = await _reader(session, start, ["armenia", "georgia"])
        for n in range(60):
            regions = ("georgia",) if n % 2 else ("armenia",)
            await _article(session, n, regions, start + timedelta(minutes=10 + n))
        await _article(session, 100, ("georgia",), start + timedelta(minutes=5), lang="ru")
        received = await _article(session, 101, ("georgia",), start + timedelta(minutes=6))
        session.add(
            OutboxRow(
                article_id=received,
                chat_id=reader,
                state="sent",
                priority=2,
                attempts=1,
                next_attempt_at=start,
                created_at=start,
                updated_at=start,
            )
        )
    clock = FakeClock(datetime(2026, 3, 2, 3, 0))  # 07:00 in Yerevan: not yet
    job = DigestJob(CATALOG, TR, sessions, clock)
    assert await job.run() == 0
    clock.current = datetime(2026, 3, 2, 4, 30)  # 08:30
    assert await job.run() == 1
    assert await job.run() == 0
    sent = await queued(sessions, "digest")
    assert len(sent) >= 2 and {address for address, _ in sent} == {"4242"}
    texts = [parse_telegram_html(text)[0] for _, text in sent]
    assert all(utf16_len(text) <= 4096 for text in texts)
    whole = "\n".join(texts)
    assert "60 new articles" in texts[0]
    assert whole.index("Georgia") < whole.index("Armenia")  # catalog order
    for n in range(60):
        assert f"Story {n} " in whole
    assert "Story 100 " not in whole and "Story 101 " not in whole


async def test_empty_digest_only_when_asked_then_says_so(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime(2026, 3, 2, 4, 30)
    async with sessions.begin() as session:
        pk = await _reader(session, now - timedelta(days=1), ["georgia"])
    assert await DigestJob(CATALOG, TR, sessions, FakeClock(now)).run() == 0
    assert await queued(sessions, "digest") == []
    async with sessions.begin() as session:
        await session.execute(
            update(ChatRow).where(ChatRow.id == pk).values(digest_when_empty=True)
        )
    later = now + timedelta(days=1)
    assert await DigestJob(CATALOG, TR, sessions, FakeClock(later)).run() == 1
    assert await queued(sessions, "digest") == [("4242", TR.gettext("en", "digest.empty"))]


async def test_an_article_of_no_region_is_in_the_digest_only_when_the_catalog_says_all(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime(2026, 3, 1, 5, 0)
    async with sessions.begin() as session:
        await _reader(session, start, ["georgia"])
        await _article(session, 1, ("georgia",), start + timedelta(minutes=10))
        await _article(session, 2, (), start + timedelta(minutes=20))
    outlet = {
        "name": "Caucasus Wire",
        "site": "https://caucasus-wire.example",
        "languages": ["en", "ru", "ka", "hy", "az"],
    }
    for choice, wanted in (("none", False), ("all", True)):
        catalog = make_catalog([], outlet={**outlet, "unmatched": choice})
        clock = FakeClock(datetime(2026, 3, 2, 4, 30))
        assert await DigestJob(catalog, TR, sessions, clock).run() == 1
        [(_, text)] = await queued(sessions, "digest")
        sent = parse_telegram_html(text)[0]
        assert "Story 1 " in sent
        assert ("Story 2 " in sent) is wanted, choice
        async with sessions.begin() as session:  # due again for the next choice
            await session.execute(update(ChatRow).values(last_digest_at=start))
            await session.execute(delete(OutboxRow))
