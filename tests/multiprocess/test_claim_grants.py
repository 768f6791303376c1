"""A wave's grant from the shared budget, asked by the statement that claims it (PostgreSQL):
only granted rows are taken, counted as of the burst's departure; refused rows stay due;
the sender asks no grant of its own for them; and the claim's connection reads due rows
in index order whatever the statistics say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from alembic import command
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.metrics import DeliveryMetrics
from bot.outbox.budget import SharedBudget
from bot.outbox.ledger import Ledger, SenderStats
from bot.outbox.queue import Delivery
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.direct_claims import INDEX_SCANS_ONLY, _claim, direct_claims
from bot.storage.engine import session_factory
from bot.storage.held import HeldConnection
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import ChatRow, OutboxRow
from bot.storage.send_budget import GrantAsk
from tests.crash.support import fan_out, now, reader_ids
from tests.delivery.support import build_sender
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.exclusive

SLOT_MS = 20


@pytest.fixture
async def budget(pg_engine: AsyncEngine) -> AsyncIterator[SharedBudget]:
    made = SharedBudget(pg_engine, 30)
    yield made
    await made.close()


async def claim(engine: AsyncEngine, limit: int, ask: GrantAsk) -> tuple[list[Delivery], float]:
    """One claim with ``ask`` on a ledger of its own: the rows taken, and the wait asked."""
    sessions = session_factory(engine)
    ledger = Ledger(sessions, SystemClock(), SenderStats(), DeliveryMetrics(CollectorRegistry()))
    ledger.direct = direct_claims(sessions)
    try:
        return await ledger.claim_direct(now(), limit, ask), ledger.budget_wait
    finally:
        await ledger.close()


async def states(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
        return {state: count for state, count in rows.tuples()}


async def test_a_claim_takes_only_what_its_grant_allows_and_counts_it_when_the_burst_leaves(
    pg_engine: AsyncEngine, budget: SharedBudget
) -> None:
    await fan_out(session_factory(pg_engine), 12)
    taken, wait = await claim(pg_engine, 10, GrantAsk(budget.terms, own=25, ahead_ms=400))
    assert len(taken) == 5 and wait == 0.0  # 30/s, 25 of its own sends still in the window
    assert await states(pg_engine) == {"inflight": 5, "pending": 7}
    async with pg_engine.connect() as conn:
        counted = (await conn.execute(text("SELECT slot, broadcasts FROM send_budget"))).all()
        server_slot = await conn.scalar(
            text("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint / 20")
        )
    assert [n for _, n in counted] == [5]
    # Counted 400 ms (20 slots) ahead of the claim, as of the burst's departure.
    assert 400 // SLOT_MS - 5 <= counted[0][0] - server_slot <= 400 // SLOT_MS


async def test_rows_the_budget_has_no_room_for_stay_due_and_the_claim_says_how_long_to_wait(
    pg_engine: AsyncEngine, budget: SharedBudget
) -> None:
    await fan_out(session_factory(pg_engine), 6)
    other = SharedBudget(pg_engine, 30)  # another process used the whole second
    try:
        chats = [f"elsewhere-{n}" for n in range(30)]
        granted = await other.take(chats, [False] * 30, reply=False, own_used=lambda: 0)
        assert len(granted.granted) == 30
        taken, wait = await claim(pg_engine, 6, GrantAsk(budget.terms, own=0, ahead_ms=0))
    finally:
        await other.close()
    assert taken == [] and 0.0 < wait <= 1.2
    assert await states(pg_engine) == {"pending": 6}


async def test_a_reader_a_reply_just_reached_is_left_due_and_the_rest_are_taken(
    pg_engine: AsyncEngine, budget: SharedBudget
) -> None:
    await fan_out(session_factory(pg_engine), 4)
    web = SharedBudget(pg_engine, 30)
    try:
        address = str(reader_ids(4)[1])
        assert (await web.take([address], [False], reply=True, own_used=lambda: 0)).granted
        taken, wait = await claim(pg_engine, 4, GrantAsk(budget.terms, own=0, ahead_ms=100))
    finally:
        await web.close()
    assert sorted(d.address for d in taken) == sorted(
        str(r) for r in reader_ids(4) if r != int(address)
    )
    assert wait == 0.0
    assert await states(pg_engine) == {"inflight": 3, "pending": 1}


async def test_a_channel_with_a_minutes_worth_of_posts_is_left_due(
    pg_engine: AsyncEngine, budget: SharedBudget
) -> None:
    """Twenty messages to a channel within the minute (any process's, as the outbox holds
    them) fill its own limit: its next row waits; one of them older, and it goes."""
    sessions = session_factory(pg_engine)
    async with sessions.begin() as session:
        channel = ChatRow(
            address="-100777", kind="channel", language="en", created_at=now(), updated_at=now()
        )
        session.add(channel)
        await session.flush()
        await enqueue_texts(
            session, channel.id, "digest", [f"<b>{n}</b>" for n in range(21)], now()
        )
    async with pg_engine.begin() as conn:
        ids = (await conn.execute(select(OutboxRow.id).order_by(OutboxRow.id))).scalars().all()
        await conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids[:20]))
            .values(state="sent", updated_at=now())
        )
    ask = GrantAsk(budget.terms, own=0, ahead_ms=0)
    taken, wait = await claim(pg_engine, 5, ask)
    assert taken == [] and wait == pytest.approx(0.2, abs=0.01)
    async with pg_engine.begin() as conn:
        earlier = now() - timedelta(minutes=5)
        await conn.execute(
            update(OutboxRow).where(OutboxRow.id == ids[0]).values(updated_at=earlier)
        )
    taken, wait = await claim(pg_engine, 5, ask)
    assert [d.id for d in taken] == [ids[20]] and wait == 0.0


async def test_the_sender_asks_no_grant_of_its_own_for_a_broadcast(
    pg_engine: AsyncEngine,
) -> None:
    sessions = session_factory(pg_engine)
    await fan_out(sessions, 40)
    budget = SharedBudget(pg_engine, 100)
    async with FakeBotAPI(global_rate=100) as api, aiohttp.ClientSession() as http:
        metrics = DeliveryMetrics(CollectorRegistry())
        sender = await build_sender(api, http, sessions, metrics, budget=budget)
        try:
            await sender.drain(within=30)
        finally:
            await budget.close()
    assert len(api.sent) == 40 and await states(pg_engine) == {"sent": 40}
    assert budget.granted == 0  # no grant of its own: every wave's came with its claim
    async with pg_engine.connect() as conn:
        counted = await conn.scalar(text("SELECT sum(broadcasts) FROM send_budget"))
    assert counted == 40


async def test_the_claim_reads_due_rows_in_index_order_even_with_stale_statistics(
    pg_engine: AsyncEngine,
) -> None:
    """Statistics taken while the outbox was empty make a bitmap scan of every due row
    look cheap; the claim's connection leaves the planner index scans only, and gives
    its connection back to the pool with the planner's settings as they were."""
    async with pg_engine.begin() as conn:
        await conn.execute(text("ANALYZE outbox"))
    await fan_out(session_factory(pg_engine), 300)
    held = HeldConnection(pg_engine, INDEX_SCANS_ONLY)
    try:
        plan = [r[0] for r in await held.fetch("EXPLAIN " + _claim(15, False), now(), [], [], [])]
        pid = (await held.fetch("SELECT pg_backend_pid()"))[0][0]
    finally:
        await held.close()
    text_plan = "\n".join(plan)
    assert "Index Scan using ix_outbox_claim" in text_plan and "Bitmap" not in text_plan
    async with pg_engine.connect() as conn:  # the same pooled connection, settings reset
        assert await conn.scalar(text("SELECT pg_backend_pid()")) == pid
        assert await conn.scalar(text("SHOW enable_bitmapscan")) == "on"


async def test_the_grant_asked_ahead_comes_and_goes_with_its_migration(
    pg_engine: AsyncEngine,
) -> None:
    """0029 adds ``ahead_ms`` (default 0, so a call written for 0028 is answered); its
    downgrade gives back 0028's function."""
    call = "SELECT granted FROM newsbot_grant_sends(1, 0, ARRAY['a'], ARRAY[false], ARRAY[0],"
    args = " false, 30, 0, 20, 56, 1100, 60100, 20"
    async with pg_engine.connect() as conn:
        assert await conn.scalar(text(call + args + ", 300)")) == [1]
        assert await conn.scalar(text(call + args + ")")) == [1]
    async with pg_engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0028"))
    async with pg_engine.connect() as conn:
        assert await conn.scalar(text(call + args + ")")) == [1]
        with pytest.raises(Exception, match="does not exist"):
            await conn.scalar(text(call + args + ", 300)"))
    await upgrade(pg_engine)
    async with pg_engine.connect() as conn:
        assert await conn.scalar(text(call + args + ", 300)")) == [1]
