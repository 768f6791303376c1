"""A day without news sends no digest, unless the reader asked for one on such days."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Parts
from scheduler.digest import DigestJob
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    publish,
    run_and_send,
    subscription,
    tap,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

READER = 7101
QUIET_DAY_BUTTON = "Also on days without news"


def digest_job(parts: Parts, clock: FakeClock) -> DigestJob:
    return DigestJob(parts.services.catalog, parts.translator, parts.sessions, clock)


async def test_no_digest_on_a_day_without_news_unless_asked(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start")
        await next_from_bot(api, READER, "sendMessage", 1)
        await tap(api, READER, READER, "Choose regions")
        await tap(api, READER, READER, "Georgia")
        await tap(api, READER, READER, "Done")
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 2)
        await tap(api, READER, READER, "Delivery")
        assert QUIET_DAY_BUTTON not in buttons(latest(api, READER))  # instant readers: no digest
        await tap(api, READER, READER, "Once a day (digest)")
        await tap(api, READER, READER, "6:00\u202fPM")
        job = digest_job(parts, clock)

        # 18:00 in Tbilisi with nothing new: no message, and the day is done.
        clock.advance(hours=5)
        before = len(api.messages_to(READER))
        assert await run_and_send(parts, job.run) == 0
        assert len(api.messages_to(READER)) == before
        row, _ = await subscription(parts, READER)
        assert row is not None and row.last_digest_at is not None
        assert row.last_digest_at >= NOON + timedelta(hours=5)

        # The next day there is news: the digest comes.
        clock.advance(hours=2)
        await publish(parts, "g1", "Batumi port expands", "en", ("georgia",), clock.now())
        clock.advance(hours=22)
        assert await run_and_send(parts, job.run) == 1
        assert "Batumi port expands" in api.messages_to(READER)[-1].plain_text

        # The reader asks for it on quiet days too: the next quiet day says so.
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", before + 2)
        await tap(api, READER, READER, "Delivery")
        await tap(api, READER, READER, QUIET_DAY_BUTTON)
        assert "✅ " + QUIET_DAY_BUTTON in buttons(latest(api, READER))
        row, _ = await subscription(parts, READER)
        assert row is not None and row.digest_when_empty
        clock.advance(hours=24)
        count = len(api.messages_to(READER))
        assert await run_and_send(parts, job.run) == 1
        assert len(api.messages_to(READER)) == count + 1
        assert "No new articles" in api.messages_to(READER)[-1].plain_text
