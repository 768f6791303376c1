"""The weekly most-read post: when it is due, what it lists, and that it goes once a week."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Translator
from bot.mostread import MostReadItem, MostReadStore
from bot.storage.models import ChatRegionRow, ChatRow
from scheduler.weekly import (
    WeeklyMostRead,
    WeeklyReader,
    for_regions,
    last_weekly_time,
    weekly_due,
)
from tests.delivery.support import sender_for
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

SITE = "https://caucasus-wire.example"
MONDAY = datetime(2026, 11, 23)  # a Monday (naive UTC)


def test_last_weekly_time_in_local_time() -> None:
    # Monday 09:00 in Tbilisi (UTC+4) is 05:00 UTC.
    assert last_weekly_time(MONDAY.replace(hour=6), "Asia/Tbilisi", 540, 0) == MONDAY.replace(
        hour=5
    )
    # Just before it, the slot is the previous Monday's.
    assert last_weekly_time(MONDAY.replace(hour=4), "Asia/Tbilisi", 540, 0) == MONDAY.replace(
        hour=5
    ) - timedelta(days=7)
    # Later in the week, still this Monday's.
    assert last_weekly_time(MONDAY + timedelta(days=3), "UTC", 480, 0) == MONDAY.replace(hour=8)


def reader(last: datetime | None) -> WeeklyReader:
    return WeeklyReader(1, "1", 0, "en", "UTC", 480, last)


def test_weekly_due() -> None:
    now = MONDAY.replace(hour=9)
    assert weekly_due(reader(None), now)
    assert not weekly_due(reader(None), now + timedelta(days=2))  # waits for the next slot
    assert weekly_due(reader(MONDAY - timedelta(days=7)), now)
    assert not weekly_due(reader(MONDAY.replace(hour=8, minute=30)), now)
    assert not weekly_due(reader(MONDAY - timedelta(days=1)), MONDAY.replace(hour=7))


def test_for_regions() -> None:
    items = [
        MostReadItem("G", f"{SITE}/1/", ("georgia",)),
        MostReadItem("A", f"{SITE}/2/", ("armenia",)),
        MostReadItem("N", f"{SITE}/3/"),
    ]
    assert [i.title for i in for_regions(items, {"georgia"})] == ["G"]
    assert [i.title for i in for_regions(items, {"*"})] == ["G", "A", "N"]
    assert [i.title for i in for_regions(items, set())] == ["G", "A", "N"]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(enforce_limits=False) as fake:  # pacing is the limiter's job
        yield fake


async def add_chat(
    sessions: async_sessionmaker[AsyncSession],
    address: str,
    kind: str,
    lang: str,
    regions: list[str],
    *,
    weekly: bool = True,
    active: bool = True,
    tz: str = "UTC",
    minute: int = 480,
    thread: int = 0,
) -> None:
    async with sessions.begin() as session:
        chat = ChatRow(
            address=address,
            thread_id=thread,
            kind=kind,
            title=address,
            language=lang,
            origin="user",
            active=active,
            paused=False,
            mode="instant",
            priority=2,
            created_at=MONDAY - timedelta(days=30),
            updated_at=MONDAY - timedelta(days=30),
            timezone=tz,
            digest_minute=minute,
            weekly_mostread=weekly,
        )
        session.add(chat)
        await session.flush()
        session.add_all(ChatRegionRow(chat_id=chat.id, region=r) for r in regions)


async def test_weekly_post_goes_once_a_week_to_opted_in_chats(
    sessions: async_sessionmaker[AsyncSession], api: FakeBotAPI
) -> None:
    catalog = make_catalog([])
    store = MostReadStore(sessions, "html", 6)
    clock = FakeClock(MONDAY.replace(hour=6), paces=True)
    async with sessions.begin() as session:
        await store.save(
            session,
            "en",
            [
                MostReadItem("Tbilisi metro", f"{SITE}/1/", ("georgia",)),
                MostReadItem("Yerevan festival", f"{SITE}/2/", ("armenia",)),
            ],
            clock.now(),
        )
        await store.save(session, "ru", [MostReadItem("Метро", f"{SITE}/ru/1/")], clock.now())
    await add_chat(sessions, "101", "private", "en", ["georgia"], tz="Asia/Tbilisi", minute=540)
    await add_chat(sessions, "-100200", "supergroup", "ru", ["*"], thread=7)
    await add_chat(sessions, "102", "private", "en", ["georgia"], weekly=False)
    await add_chat(sessions, "103", "private", "en", ["georgia"], active=False)
    api.set_chat(-100200, "supergroup", title="Forum")
    translator = Translator.load(["en", "ru"], "en")
    job = WeeklyMostRead(catalog, translator, sessions, store, clock)
    # Monday 06:00 UTC: 10:00 in Tbilisi (slot 09:00) but 06:00 in the forum (slot 08:00).
    assert await job.run() == 1
    assert await job.run() == 0  # already queued this week
    clock.set(clock.now() + timedelta(days=3))
    assert await job.run() == 0  # the forum never had one: it waits for Monday 08:00
    clock.set(MONDAY.replace(hour=8, minute=30) + timedelta(days=7))
    assert await job.run() == 2
    assert await job.run() == 0
    async with sender_for(api, sessions, FakeClock(runs=True, start=clock.now())) as sender:
        await sender.drain(within=30)

    to_reader = api.messages_to(101)
    assert len(to_reader) == 2
    assert "Most read on Caucasus Wire" in to_reader[0].plain_text
    assert "1. Tbilisi metro" in to_reader[0].plain_text
    assert "Yerevan" not in to_reader[0].plain_text  # not the reader's region
    forum = api.messages_to(-100200)
    assert len(forum) == 1 and "Метро" in forum[0].plain_text
    assert forum[0].params.get("message_thread_id") in (7, "7")
    assert api.messages_to(102) == [] and api.messages_to(103) == []


async def test_a_send_refused_with_retry_after_is_tried_again(
    sessions: async_sessionmaker[AsyncSession], api: FakeBotAPI
) -> None:
    store = MostReadStore(sessions, "html", 6)
    clock = FakeClock(MONDAY.replace(hour=9), paces=True)
    async with sessions.begin() as session:
        await store.save(session, "en", [MostReadItem("Metro", f"{SITE}/1/")], clock.now())
    await add_chat(sessions, "101", "private", "en", ["*"])
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    translator = Translator.load(["en"], "en")
    job = WeeklyMostRead(make_catalog([]), translator, sessions, store, clock)
    assert await job.run() == 1
    assert await job.run() == 0  # queued once: the sender retries it
    async with sender_for(api, sessions, FakeClock(runs=True, start=clock.now())) as sender:
        await sender.drain(within=30)
    assert len(api.messages_to(101)) == 1
    assert len(api.calls("sendMessage")) == 2  # refused once, then sent
