"""A broadcast to thousands of readers stays within Telegram's limits, and commands still
get their answer within a second (DESIGN.md decision 3).

The whole bot runs (``bot.app.run``) against a FakeBotAPI that answers 429 to any send
over its limits: at 300/s on both sides, so that thousands of readers take a few seconds,
and at Telegram's own 30/s with fewer readers.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import run
from tests.crash.support import add_private_readers, publish, reader_ids, states
from tests.e2e.support import declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.exclusive

NEWCOMER = 5_550_001


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rate", "audience"),
    [(300.0, 2000), (30.0, 150)],  # bursts of 50 every 0.17 s; of 15 every half second
    ids=["300-per-s", "30-per-s"],
)
async def test_broadcast_keeps_every_limit_while_start_is_answered_within_a_second(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    rate: float,
    audience: int,
) -> None:
    readers = reader_ids(audience)
    async with sessions.begin() as session:
        await add_private_readers(session, readers, "georgia")
    created, _ = await publish(sessions, "broadcast-1")
    assert created == audience
    async with FakeBotAPI(global_rate=rate) as api:
        declare_channels(api)
        settings = make_settings(api, database_url, broadcast_rate=rate)
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, make_catalog([]), dry_run=False, stop=stop))
        try:
            await api.wait_for(lambda: len(api.sent) >= audience // 4, within=20)
            pushed = time.monotonic()  # the fake's clock: SentMessage.at is monotonic too
            api.push_message(NEWCOMER, NEWCOMER, "/start")
            await api.wait_for(lambda: bool(api.messages_to(NEWCOMER)), within=5)
            reply = api.messages_to(NEWCOMER)[0]
            during = len(api.sent)
            await api.wait_for(lambda: len(api.sent) >= audience + 1, within=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)

    print(f"/start answered {reply.at - pushed:.3f} s after it was sent, {during} posts in")
    assert reply.at - pushed <= 1.0, f"/start answered after {reply.at - pushed:.2f} s"
    assert during < audience, "the reply did not come during the broadcast"
    assert api.limit_violations == 0, api.violations[:5]
    per_chat = Counter(m.chat_id for m in api.sent if m.chat_id != NEWCOMER)
    assert set(per_chat) == set(readers)
    assert max(per_chat.values()) == 1
    assert api.peak_rate() <= rate * 1.05 + 1
    assert await states(sessions) == {"sent": audience}
