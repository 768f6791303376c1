"""The sender's one-statement claims and waves (PostgreSQL): the same rows and facts as the
transactions they stand for, the lease's fence inside the statement, and a held
connection that dies is replaced without losing or repeating a row."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.leadership import Leadership, LeaseLost
from bot.metrics import DeliveryMetrics
from bot.outbox.ledger import Ledger, SenderStats
from bot.outbox.queue import Delivery, Sent
from bot.storage.delivery_claims import claim_due
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.direct_claims import direct_claims
from bot.storage.engine import create_engine, session_factory
from bot.storage.held import HeldConnection
from bot.storage.models import ChatRow, OutboxRow
from tests.crash.support import fan_out, now, publish, reader_ids
from tests.delivery.support import build_sender
from tests.fakes.botapi import FakeBotAPI


def ledger_for(engine: AsyncEngine) -> Ledger:
    sessions = session_factory(engine)
    ledger = Ledger(sessions, SystemClock(), SenderStats(), DeliveryMetrics(CollectorRegistry()))
    ledger.direct = direct_claims(sessions)
    assert ledger.direct is not None
    return ledger


async def queue_a_digest(engine: AsyncEngine) -> None:
    """A digest for the first reader: a row of another kind than posts, in the same claim."""
    async with session_factory(engine).begin() as session:
        chat = await session.scalar(select(ChatRow.id).where(ChatRow.kind == "private").limit(1))
        assert chat is not None
        await enqueue_texts(session, chat, "digest", ["<b>Today</b>"], now())


async def claim_both_ways(engine: AsyncEngine, limit: int) -> tuple[list[Delivery], list[Delivery]]:
    """What the transaction's ``claim_due`` would reserve (rolled back: the rows stay due),
    then what the one-statement claim takes into flight."""
    async with session_factory(engine)() as session:
        expected = await claim_due(session, now(), limit)
        await session.rollback()
    ledger = ledger_for(engine)
    try:
        return expected, await ledger.claim_direct(now(), limit)
    finally:
        await ledger.close()


async def test_a_direct_claim_reads_the_rows_a_transaction_claims(pg_engine: AsyncEngine) -> None:
    await fan_out(session_factory(pg_engine), 12)
    await queue_a_digest(pg_engine)
    expected, claimed = await claim_both_ways(pg_engine, 20)
    assert [d.kind for d in expected].count("digest") == 1
    assert claimed == expected
    async with session_factory(pg_engine)() as session:  # straight into flight
        taken = await session.scalar(select(func.count()).where(OutboxRow.state == "inflight"))
    assert taken == len(expected) == 13


async def test_each_article_is_read_once_per_claim_and_every_row_gets_it(
    pg_engine: AsyncEngine,
) -> None:
    """Two stories to the same readers, their rows interleaved in sending order: the
    statement sends each article's columns with its first row only, and every delivery
    still carries its own article's."""
    sessions = session_factory(pg_engine)
    first = await fan_out(sessions, 5)
    _, second = await publish(sessions, "crash-2")
    async with pg_engine.begin() as conn:  # alternate the two stories' rows in time
        ids = (await conn.execute(select(OutboxRow.id).order_by(OutboxRow.chat_id))).scalars()
        for n, row_id in enumerate(ids):
            due = now() - timedelta(seconds=60 - n)
            await conn.execute(
                update(OutboxRow).where(OutboxRow.id == row_id).values(next_attempt_at=due)
            )
    expected, claimed = await claim_both_ways(pg_engine, 20)
    assert len({d.article_id for d in claimed[:3]}) == 2  # interleaved
    assert claimed == expected and len(claimed) == 10
    assert {d.article_id: d.url for d in claimed} == {
        first: "https://caucasus-wire.example/crash-1/",
        second: "https://caucasus-wire.example/crash-2/",
    }


async def test_a_claim_records_the_sends_and_takes_only_rows_still_due(
    pg_engine: AsyncEngine,
) -> None:
    await fan_out(session_factory(pg_engine), 6)
    ledger = ledger_for(pg_engine)
    try:
        first = await ledger.claim_direct(now(), 3)
        ledger.pending += [(d, Sent(message_id=100 + n)) for n, d in enumerate(first)]
        async with pg_engine.begin() as conn:  # a reader left meanwhile: the row was dropped
            left = await conn.scalar(
                select(OutboxRow.id).where(OutboxRow.state == "pending").limit(1)
            )
            await conn.execute(
                update(OutboxRow).where(OutboxRow.id == left).values(state="dropped")
            )
        rest = await ledger.claim_direct(now(), 10)
    finally:
        await ledger.close()
    assert len(rest) == 2 and left not in {d.id for d in rest}
    assert not ledger.pending
    async with pg_engine.connect() as conn:
        rows = dict((await conn.execute(select(OutboxRow.id, OutboxRow.message_id))).all())
    assert [rows[d.id] for d in first] == [100, 101, 102]


async def test_an_old_leader_claims_nothing_but_its_sends_are_recorded(
    pg_engine: AsyncEngine,
) -> None:
    await fan_out(session_factory(pg_engine), 4)
    old, new = Leadership(pg_engine, "sender"), Leadership(pg_engine, "sender")
    stop, leads = asyncio.Event(), asyncio.Event()

    async def work(until: asyncio.Event) -> None:
        leads.set()
        await until.wait()

    task = asyncio.create_task(old.run(stop, work))
    ledger = ledger_for(pg_engine)
    try:
        await asyncio.wait_for(leads.wait(), 5)
        ledger.lease = old
        sent_row = (await ledger.claim_direct(now(), 1))[0]
        ledger.pending.append((sent_row, Sent(message_id=7)))
        async with pg_engine.begin() as conn:  # the lease runs out on the server's clock
            await conn.execute(text("UPDATE leases SET expires_at = expires_at - interval '1h'"))
        assert await new._take() == old.epoch + 1
        with pytest.raises(LeaseLost):
            await ledger.claim_direct(now(), 10)
    finally:
        await ledger.close()
        stop.set()
        await asyncio.wait_for(task, 10)
    assert not old.is_leader and not ledger.pending
    async with pg_engine.connect() as conn:
        states = Counter((await conn.execute(select(OutboxRow.state))).scalars())
    assert states == Counter({"sent": 1, "pending": 3})


async def test_a_held_connection_that_died_is_replaced_and_closing_returns_it(
    pg_engine: AsyncEngine,
) -> None:
    held = HeldConnection(pg_engine)
    try:
        backend = (await held.fetch("SELECT pg_backend_pid()"))[0][0]
        assert pg_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        async with pg_engine.connect() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend({int(backend)})"))
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error for a dead link
            await held.fetch("SELECT 1")
        assert (await held.fetch("SELECT pg_backend_pid()"))[0][0] != backend
    finally:
        await held.close()
    assert pg_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def backends_of(engine: AsyncEngine) -> set[int]:
    """The server pids of ``engine``'s connections, filled as they open."""
    pids: set[int] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def remember(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        pids.add(dbapi_connection.run_async(lambda c: c.fetchval("SELECT pg_backend_pid()")))

    return pids


async def test_connections_cut_mid_broadcast_lose_and_repeat_nothing(
    pg_url: str, pg_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    readers = 200
    await fan_out(session_factory(pg_engine), readers)
    bot_engine = create_engine(pg_url)  # the bot's own connections, cut mid-broadcast
    backends = backends_of(bot_engine)
    async with FakeBotAPI(global_rate=100) as api, aiohttp.ClientSession() as http:
        metrics = DeliveryMetrics(CollectorRegistry())
        sender = await build_sender(api, http, session_factory(bot_engine), metrics)
        sender._idle_poll = 0.05
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await api.wait_for(lambda: len(api.sent) >= 30, within=20)
            async with pg_engine.connect() as conn:
                for pid in list(backends):
                    await conn.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            await api.wait_for(lambda: len(api.sent) >= readers, within=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await bot_engine.dispose()
        reached = Counter(m.chat_id for m in api.sent)
    assert len(backends) >= 2  # the held connection and the pool's, at least
    assert "sender step failed" in caplog.text  # the cut was felt, and survived
    assert set(reached) == set(reader_ids(readers))
    assert max(reached.values()) == 1
    async with pg_engine.connect() as conn:
        states = Counter((await conn.execute(select(OutboxRow.state))).scalars())
    assert states == Counter({"sent": readers})
