"""The sender survives database failures mid-batch without losing or repeating a row."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import DeliveryMetrics
from tests.crash.support import add_private_readers, publish, reader_ids, states
from tests.delivery.support import build_sender
from tests.fakes.botapi import FakeBotAPI

READERS = 20


class FlakySessions:
    """A session factory whose transactions number ``fail`` roll back with an error at
    commit time, after their statements ran: the database went away at the worst moment."""

    def __init__(self, real: async_sessionmaker[AsyncSession], fail: set[int]) -> None:
        self.real = real
        self.fail = fail
        self.begun = 0

    def __call__(self) -> Any:
        return self.real()

    def begin(self) -> Any:
        self.begun += 1
        return self._failing() if self.begun in self.fail else self.real.begin()

    @contextlib.asynccontextmanager
    async def _failing(self) -> AsyncIterator[AsyncSession]:
        async with self.real() as session, session.begin():
            yield session
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


async def send_until(
    api: FakeBotAPI, flaky: FlakySessions, sent: int, batch: int | None = None
) -> None:
    """Run the sender on ``flaky`` until the Bot API got ``sent`` messages, then stop it."""
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(
            api,
            http,
            flaky,  # type: ignore[arg-type]
            DeliveryMetrics(CollectorRegistry()),
        )
        sender._idle_poll = 0.05
        if batch is not None:
            sender._batch = batch
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await api.wait_for(lambda: len(api.sent) >= sent, within=20)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_failed_transactions_strand_nothing_and_send_nothing_twice(
    api: FakeBotAPI,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    readers = reader_ids(READERS)
    async with sessions.begin() as session:
        await add_private_readers(session, readers, "georgia")
    await publish(sessions, "faults-1")
    # Batches of 5 rows: 1 recovery, 2 the first claim (fails: nothing reserved, nothing
    # sent), 3 claims, 4 and 5 record that batch's outcomes and claim the next (both fail:
    # the outcomes are kept and recorded by 6), 8 fails a later batch the same way.
    flaky = FlakySessions(sessions, fail={2, 4, 5, 8})
    await send_until(api, flaky, sent=READERS, batch=5)
    assert flaky.begun > 8  # every planned failure happened
    assert Counter(m.chat_id for m in api.sent) == dict.fromkeys(readers, 1)
    assert await states(sessions) == {"sent": READERS}


async def test_rows_a_failed_give_back_stranded_are_given_back_later(
    api: FakeBotAPI,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two articles to the same three readers: each batch holds rows whose chat must wait a
    second (1/s per private chat); giving them back fails once, and they are still sent."""
    readers = reader_ids(3)
    async with sessions.begin() as session:
        await add_private_readers(session, readers, "georgia")
    await publish(sessions, "faults-2a")
    await publish(sessions, "faults-2b")
    # 1 recovery, 2 claims all six rows, three go; 3 gives the other three back (fails).
    flaky = FlakySessions(sessions, fail={3})
    await send_until(api, flaky, sent=6)
    assert flaky.begun > 3
    assert Counter(m.chat_id for m in api.sent) == dict.fromkeys(readers, 2)
    texts = {(m.chat_id, m.text) for m in api.sent}
    assert len(texts) == 6  # each reader got each article once
    assert await states(sessions) == {"sent": 6}


async def test_nothing_goes_out_during_a_429_pause_while_answers_are_awaited(
    api: FakeBotAPI,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """One request in flight at most, answers taking 50 ms, the first a 429: the rows the
    pacer had let go must not leave once Telegram has asked for a pause."""
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(6), "georgia")
    await publish(sessions, "faults-3")
    api.delay("sendMessage", 0.05)
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, DeliveryMetrics(CollectorRegistry()))
        sender._max_in_flight = 1
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await api.wait_for(lambda: bool(api.calls("sendMessage")), within=10)
            refused_at = api.calls("sendMessage")[0].at
            await asyncio.sleep(2.0)  # well inside the pause
            during = [c for c in api.calls("sendMessage") if c.at > refused_at]
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    assert during == []
    assert api.limit_violations == 0


async def test_a_stop_during_a_long_pause_gives_the_batch_back_at_once(
    api: FakeBotAPI,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(6), "georgia")
    await publish(sessions, "faults-4")
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 60", retry_after=60)
    async with aiohttp.ClientSession() as http:
        sender = await build_sender(api, http, sessions, DeliveryMetrics(CollectorRegistry()))
        sender._max_in_flight = 1
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await api.wait_for(lambda: bool(api.calls("sendMessage")), within=10)
        await asyncio.sleep(0.5)
        stop.set()
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(task, 10)
        stopped_in = asyncio.get_running_loop().time() - started
    assert stopped_in < 2.0  # not after the 60 s pause
    # Nothing was left in flight to become "unknown": the refused row waits for its
    # retry, the others are back in the queue.
    assert await states(sessions) == {"retry": 1, "pending": 5}
