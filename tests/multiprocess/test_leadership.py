"""Several worker processes on one PostgreSQL database: one sends, a standby takes over."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leadership import (
    CONFIRM_WITHIN,
    LEASE_TTL,
    RENEW_EVERY,
    STANDBY_RETRY,
    Leadership,
    LeaseLost,
)
from bot.storage.engine import create_engine, session_factory
from tests.conftest import postgres_url
from tests.crash.support import bot_environment, fan_out, states, wait_until_done
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tcpproxy import SilentProxy
from tests.multiprocess.support import start_worker, wait_for_log

pytestmark = [
    pytest.mark.exclusive,
    pytest.mark.skipif(
        postgres_url() is None,
        reason="needs PostgreSQL (NEWSBOT_TEST_POSTGRES_URL); .ci/run sets it",
    ),
]

READERS = 400
RATE = 150.0


@pytest.mark.slow
async def test_standby_takes_over_and_nothing_is_sent_twice(
    pg_url: str, pg_engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(pg_engine)
    async with FakeBotAPI(global_rate=RATE) as api:
        await fan_out(sessions, READERS)
        env = bot_environment(api, pg_url, RATE)
        first = await start_worker(tmp_path, env, "first")
        second: asyncio.subprocess.Process | None = None
        try:
            await wait_for_log(tmp_path / "first.log", "became leader of sender", 20)
            second = await start_worker(tmp_path, env, "second")
            await wait_for_log(tmp_path / "second.log", "role worker", 20)
            await api.wait_for(lambda: len(api.sent) >= 60, within=20)
            # The standby holds no lock while the leader lives.
            assert "became leader of sender" not in (tmp_path / "second.log").read_text()
            first.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await first.wait()
            took_over = await wait_for_log(tmp_path / "second.log", "became leader of sender", 15)
            assert took_over - killed_at <= 10.0
            # Settled: every row sent, or unknown if the dead leader had it in flight.
            await wait_until_done(sessions, within=30)
            await asyncio.sleep(1.0)
        finally:
            for proc in (first, second):
                if proc is not None and proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(proc.wait(), 20)
        per_chat = Counter(m.chat_id for m in api.sent)
        assert max(per_chat.values()) == 1  # no reader got the article twice
        final = await states(sessions)
        assert set(final) <= {"sent", "unknown"}, final
        # Every row Telegram confirmed is sent; an unknown row may or may not have arrived.
        sent, unknown = final.get("sent", 0), final.get("unknown", 0)
        assert sent <= len(api.sent) <= sent + unknown
        # Only what was in flight at the kill can be unknown (the pacer keeps that small).
        assert final.get("unknown", 0) <= RATE
        assert api.limit_violations == 0, api.violations


async def test_only_one_leader_at_a_time(pg_engine: AsyncEngine) -> None:
    other_engine = create_engine(pg_engine.url.render_as_string(hide_password=False))
    a, b = Leadership(pg_engine, "sender", retry=0.1), Leadership(other_engine, "sender", retry=0.1)
    stop = asyncio.Event()
    running: list[str] = []

    def work(name: str):  # type: ignore[no-untyped-def]
        async def inner(until: asyncio.Event) -> None:
            running.append(name)
            assert len(running) == 1, running
            await until.wait()
            running.remove(name)

        return inner

    tasks = [
        asyncio.create_task(a.run(stop, work("a"))),
        asyncio.create_task(b.run(stop, work("b"))),
    ]
    await asyncio.sleep(0.5)
    assert a.is_leader != b.is_leader
    stop.set()
    await asyncio.gather(*tasks)
    await other_engine.dispose()


async def test_a_leader_whose_lease_was_taken_cannot_commit(pg_engine: AsyncEngine) -> None:
    """The fence: an old leader that has not noticed yet finds a newer epoch and stops."""
    old, new = Leadership(pg_engine, "sender"), Leadership(pg_engine, "sender")
    stop, started = asyncio.Event(), asyncio.Event()
    stopped_work = asyncio.Event()

    async def work(until: asyncio.Event) -> None:
        started.set()
        await until.wait()
        stopped_work.set()

    task = asyncio.create_task(old.run(stop, work))
    await asyncio.wait_for(started.wait(), 5)
    first_epoch = old.epoch
    # The lease runs out on the server's clock before the old leader renews it.
    async with pg_engine.begin() as conn:
        await conn.execute(text("UPDATE leases SET expires_at = expires_at - interval '1 hour'"))
    new.is_leader = False
    assert await new._take() == first_epoch + 1
    with pytest.raises(LeaseLost):
        async with session_factory(pg_engine).begin() as session:
            await old.fence(session)
    await asyncio.wait_for(stopped_work.wait(), 2)
    assert not old.is_leader
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_silence_ends_leadership_and_a_standby_takes_over(
    pg_url: str, pg_engine: AsyncEngine
) -> None:
    """Through a proxy that goes silent, the leader stops within seconds; the standby,
    on a working connection, takes the lease once it has expired on the server."""
    target = make_url(pg_url)
    async with SilentProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        proxied = create_engine(target.set(port=proxy.port).render_as_string(hide_password=False))
        leader, standby = Leadership(proxied, "sender"), Leadership(pg_engine, "sender")
        stop = asyncio.Event()
        ran: list[tuple[str, float]] = []
        ended: list[tuple[str, float]] = []
        began = {"leader": asyncio.Event(), "standby": asyncio.Event()}

        def work(name: str) -> Callable[[asyncio.Event], Awaitable[None]]:
            async def inner(until: asyncio.Event) -> None:
                ran.append((name, time.monotonic()))
                began[name].set()
                await until.wait()
                ended.append((name, time.monotonic()))

            return inner

        first = asyncio.create_task(leader.run(stop, work("leader")))
        await asyncio.wait_for(began["leader"].wait(), 10)
        second = asyncio.create_task(standby.run(stop, work("standby")))
        await asyncio.sleep(1.5)
        assert [name for name, _ in ran] == ["leader"]
        proxy.freeze()
        frozen_at = time.monotonic()
        await asyncio.wait_for(began["standby"].wait(), 15)
        assert [name for name, _ in ran] == ["leader", "standby"]
        leader_stopped = dict(ended)["leader"] - frozen_at
        standby_started = ran[1][1] - frozen_at
        assert leader_stopped <= CONFIRM_WITHIN + RENEW_EVERY + 0.5
        assert standby_started >= leader_stopped  # never two leaders at once
        assert standby_started <= LEASE_TTL + STANDBY_RETRY + 1.0
        proxy.thaw()
        stop.set()
        await asyncio.wait_for(asyncio.gather(first, second), 40)
        await proxied.dispose()


async def test_a_dropped_connection_costs_the_leader_nothing_or_one_epoch(
    pg_url: str, pg_engine: AsyncEngine
) -> None:
    """The database's address resets every connection (a restarted pooler): a short drop
    is ridden out by trying the renewal again on a fresh connection; a drop longer than
    the renewal may take stops the leader, which takes its own lease back at the next
    epoch once the database answers, long before the lease (a minute here) expires."""
    target = make_url(pg_url)
    async with SilentProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        proxied = create_engine(target.set(port=proxy.port).render_as_string(hide_password=False))
        leader = Leadership(proxied, "sender", ttl=60.0)
        stop = asyncio.Event()
        terms: list[int] = []
        leads = asyncio.Event()

        async def work(until: asyncio.Event) -> None:
            terms.append(leader.epoch)
            leads.set()
            await until.wait()

        task = asyncio.create_task(leader.run(stop, work))
        await asyncio.wait_for(leads.wait(), 10)
        await asyncio.sleep(RENEW_EVERY * 1.5)  # a renewal went through the proxy
        assert proxy.drop(refuse_for=0.3) > 0
        await asyncio.sleep(RENEW_EVERY * 3)
        assert terms == [1] and leader.is_leader  # renewed on a fresh connection

        leads.clear()
        proxy.drop(refuse_for=CONFIRM_WITHIN + 1.5)
        await asyncio.wait_for(leads.wait(), 20)
        assert terms == [1, 2]  # stopped once, back at the next epoch
        stop.set()
        await asyncio.wait_for(task, 15)
        await proxied.dispose()
