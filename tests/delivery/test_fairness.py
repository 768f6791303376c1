"""A new article's channel post does not wait behind a running private fan-out."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import DeliveryMetrics
from bot.storage.chats import set_chat_regions
from bot.storage.models import ChatRow
from tests.crash.support import add_private_readers, now, publish, reader_ids
from tests.delivery.support import build_sender
from tests.fakes.botapi import FakeBotAPI

CHANNEL = -1001000000001
READERS = 400  # four seconds of sending at the sender's 100/s


async def add_channel(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        row = ChatRow(
            address=str(CHANNEL),
            thread_id=0,
            kind="channel",
            title="CW Georgia",
            language="en",
            origin="catalog",
            active=True,
            paused=False,
            mode="instant",
            priority=0,
            created_at=now(),
            updated_at=now(),
        )
        session.add(row)
        await session.flush()
        await set_chat_regions(session, row.id, ["georgia"])


async def test_channel_post_overtakes_the_private_fan_out(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    api.set_chat(CHANNEL, "channel", title="CW Georgia")
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
    await publish(sessions, "fair-1")
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, DeliveryMetrics(CollectorRegistry()))
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await api.wait_for(lambda: len(api.sent) >= 100, within=10)
            await add_channel(sessions)
            await publish(sessions, "fair-2")  # the channel and every reader again
            enqueued = time.monotonic()
            await api.wait_for(lambda: bool(api.messages_to(CHANNEL)), within=10)
            waited = api.messages_to(CHANNEL)[0].at - enqueued
            fan_out_running = len(api.sent) < READERS
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    print(f"channel post {waited:.2f} s after it was enqueued")
    assert waited <= 2.5, f"the channel post waited {waited:.2f} s"
    assert fan_out_running, "the channel post should go before the first fan-out ends"
