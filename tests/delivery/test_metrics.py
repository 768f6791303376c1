"""Delivery metrics: the sender counts every outcome and 429 against a FakeBotAPI."""

from __future__ import annotations

import aiohttp
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import DeliveryMetrics
from bot.storage.models import OutboxRow
from tests.crash.support import add_private_readers, publish, reader_ids
from tests.delivery.support import build_sender
from tests.fakes.botapi import FakeBotAPI

READERS = 12


def value(metrics: DeliveryMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_outcomes_429s_and_backlog_are_counted(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    readers = reader_ids(READERS)
    async with sessions.begin() as session:
        await add_private_readers(session, readers, "georgia")
    await publish(sessions, "m-1")
    api.block_chat(readers[-1])  # last in line: 403, the chat is dropped
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    api.fail_next("sendMessage", 400, "Bad Request: message is odd")  # a dead letter
    metrics = DeliveryMetrics(CollectorRegistry())
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, metrics)
        await metrics.refresh_backlog(sessions)
        assert value(metrics, "newsbot_outbox_backlog", state="pending", priority="2") == READERS
        await sender.drain(within=20)

    private = {"chat_kind": "private"}
    assert value(metrics, "newsbot_deliveries_total", state="sent", **private) == READERS - 2
    assert value(metrics, "newsbot_deliveries_total", state="retry", **private) == 1
    assert value(metrics, "newsbot_deliveries_total", state="dead", **private) == 1
    assert value(metrics, "newsbot_deliveries_total", state="dropped", **private) == 1
    assert value(metrics, "newsbot_telegram_429_total", **private) == 1
    await metrics.refresh_backlog(sessions)  # younger than its max age: not read again
    assert value(metrics, "newsbot_outbox_backlog", state="pending", priority="2") == READERS
    await metrics.refresh_backlog(sessions, max_age=0)
    assert value(metrics, "newsbot_outbox_backlog", state="pending", priority="2") == 0
    text = generate_latest(metrics.registry).decode()
    assert 'newsbot_deliveries_total{chat_kind="private",state="sent"}' in text


async def test_an_answer_that_never_came_counts_as_unknown(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(3), "georgia")
    await publish(sessions, "m-2")
    api.delay("sendMessage", 1.0)  # Telegram sends, but answers after we stopped waiting
    metrics = DeliveryMetrics(CollectorRegistry())
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, metrics, read_timeout=0.3)
        await sender.drain(within=10)
    assert len(api.sent) == 3
    assert value(metrics, "newsbot_deliveries_total", state="unknown", chat_kind="private") == 3
    assert value(metrics, "newsbot_deliveries_total", state="sent", chat_kind="private") == 0


async def test_rows_a_crash_left_in_flight_are_counted_unknown_at_restart(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(4), "georgia")
    await publish(sessions, "m-3")
    async with sessions.begin() as session:  # what a killed sender leaves behind
        await session.execute(
            update(OutboxRow).where(OutboxRow.id.in_([1, 2])).values(state="inflight")
        )
    metrics = DeliveryMetrics(CollectorRegistry())
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, metrics)
        await sender.drain(within=10)
    assert len(api.sent) == 2  # the two in flight are never sent again
    assert value(metrics, "newsbot_deliveries_total", state="unknown", chat_kind="private") == 2
    assert value(metrics, "newsbot_deliveries_total", state="sent", chat_kind="private") == 2
