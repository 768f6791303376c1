"""``/queue``: the backlog and the time to drain, for operators only."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import run
from bot.i18n import Translator
from bot.metrics import shared_metrics
from bot.outbox.pacing import drain_seconds
from bot.outbox.queue import Backlog
from bot.storage.deliveries import backlog
from bot.storage.models import OutboxRow
from handlers.operator import format_queue, human_duration
from tests.crash.support import add_private_readers, now, publish, reader_ids
from tests.e2e.support import declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.revenue.support import free_port

ADMIN, STRANGER = 9001, 9002
TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


def test_drain_time_is_bound_by_the_rate_or_the_busiest_chat() -> None:
    assert drain_seconds(0, 30) == 0
    assert drain_seconds(3000, 30) == 100
    assert drain_seconds(10, 30, busiest_private=5) == 4  # one per second to that chat
    assert drain_seconds(45, 1000, busiest_group=45) == 120  # 20 per minute to that group


def test_durations_read_naturally() -> None:
    assert human_duration(42.4) == "42s"
    assert human_duration(200) == "3m 20s"
    assert human_duration(7500) == "2h 5m"
    assert human_duration(0) == "0s"
    assert human_duration(200, "ru") == "3 мин 20 с"


def test_queue_text_lists_states_per_audience_and_the_drain_time() -> None:
    at = datetime(2026, 11, 27, 12, 0)
    report = Backlog(
        by_state={("pending", 2): 3000, ("pending", 0): 2, ("retry", 2): 5},
        due_now=3002,
        next_later=at + timedelta(minutes=4),
        busiest_private=1,
        busiest_group=1,
        unknown=7,
        dead=1,
    )
    text = format_queue(report, 30, at, TR, "en")
    assert "Outbox backlog: 3,007 to send" in text
    assert "pending: channels 2 · groups 0 · private 3000" in text
    assert "retry: channels 0 · groups 0 · private 5" in text
    assert "Due now: 3,002; scheduled later: 5" in text
    assert "Next scheduled send in 4m" in text
    assert "At 30 messages/s: about 1m 40s to drain" in text
    assert "Unknown (never re-sent): 7; dead letters: 1" in text
    russian = format_queue(report, 30, at, TR, "ru")
    assert "pending: каналы 2 · группы 0 · личные чаты 3" in russian.replace("\xa0", " ")
    assert "примерно за 1 мин 40 с" in russian


async def test_backlog_counts_states_due_rows_and_the_busiest_chat(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(5), "georgia")
    for key in ("q-1", "q-2", "q-3"):
        await publish(sessions, key)
    later = now() + timedelta(minutes=10)
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxRow).where(OutboxRow.id == 1).values(state="retry", next_attempt_at=later)
        )
        await session.execute(update(OutboxRow).where(OutboxRow.id == 2).values(state="unknown"))
        await session.execute(update(OutboxRow).where(OutboxRow.id == 3).values(state="inflight"))
    async with sessions() as session:
        report = await backlog(session, now())
    # Pending rows are counted from the claim index, the others from the state index.
    assert report.by_state == {("pending", 2): 12, ("retry", 2): 1, ("inflight", 2): 1}
    assert report.total == 14 and report.due_now == 13
    assert report.next_later is not None and abs((report.next_later - later).total_seconds()) < 1
    assert report.busiest_private == 3 and report.busiest_group == 0
    assert report.unknown == 1 and report.dead == 0


async def test_queue_answers_operators_and_politely_refuses_others(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(40), "georgia")
    await publish(sessions, "q-later")
    async with sessions.begin() as session:  # all scheduled for later: the queue stays put
        await session.execute(update(OutboxRow).values(next_attempt_at=now() + timedelta(hours=1)))
    shared_metrics().set_backlog({("pending", 2): 0})
    port = free_port()
    async with FakeBotAPI() as api:
        declare_channels(api)
        settings = make_settings(api, database_url, admin_ids=(ADMIN,), metrics_port=port)
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, make_catalog([]), dry_run=False, stop=stop))
        try:
            await api.wait_for(lambda: bool(api.commands), within=10)
            api.push_message(STRANGER, STRANGER, "/queue")
            api.push_message(ADMIN, ADMIN, "/queue")
            await api.wait_for(
                lambda: bool(api.messages_to(ADMIN)) and bool(api.messages_to(STRANGER)),
                within=10,
            )
            async with aiohttp.ClientSession() as http:
                scraped = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
    refusal = api.messages_to(STRANGER)
    assert [m.text for m in refusal] == ["Sorry, this command is only for the outlet's operators."]
    answer = api.messages_to(ADMIN)[0].text
    assert "Outbox backlog: 40 to send" in answer
    assert "pending: channels 0 · groups 0 · private 40" in answer
    assert "Due now: 0; scheduled later: 40" in answer
    assert re.search(r"Next scheduled send in (1h|59m)", answer), answer
    assert len(api.sent) == 2  # nothing of the backlog went early
    # GET /metrics read the backlog gauge from the database when it was scraped.
    assert 'newsbot_outbox_backlog{priority="2",state="pending"} 40.0' in scraped
