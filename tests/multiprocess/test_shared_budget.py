"""One Telegram budget for all processes (PostgreSQL): a web process and two workers
together stay within the global rate, and replies still come first."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.budget import WINDOW_SLOTS, SharedBudget
from bot.storage.engine import create_engine, session_factory
from bot.storage.models import SendBudgetRow
from tests.crash.support import bot_environment, fan_out, start_bot, wait_until_done
from tests.fakes.botapi import FakeBotAPI
from tests.multiprocess.support import start_worker, wait_for_log

RATE = 30.0
READERS = 500
NEWCOMERS = 80
FIRST_NEWCOMER = 5_550_001


async def test_grants_leave_replies_their_room_and_say_how_long_to_wait(
    pg_engine: AsyncEngine,
) -> None:
    budget = SharedBudget(pg_engine, 10, reserve=1)
    assert await budget.take(8, reply=False) == (8, 0.0)
    assert await budget.take(5, reply=False) == (1, 0.0)  # one place stays for a reply
    assert await budget.take(1, reply=True) == (1, 0.0)
    granted, wait = await budget.take(1, reply=True)
    assert granted == 0 and 0.0 < wait <= WINDOW_SLOTS * 0.02 + 0.001
    await asyncio.sleep(wait)
    assert (await budget.take(1, reply=True))[0] == 1


async def test_processes_taking_at_once_never_overdraw_the_window(
    pg_engine: AsyncEngine,
) -> None:
    """Two engines (two processes' worth of connections) grab as fast as they can."""
    other = create_engine(pg_engine.url.render_as_string(hide_password=False))
    budgets = [SharedBudget(pg_engine, 20), SharedBudget(other, 20)]
    # Until more than two windows' worth was granted (a loaded machine takes longer).
    until = time.monotonic() + 20

    async def grab(budget: SharedBudget, reply: bool) -> None:
        while time.monotonic() < until and sum(b.granted for b in budgets) <= 45:
            granted, wait = await budget.take(3, reply=reply)
            if not granted:
                await asyncio.sleep(min(wait, 0.05))

    await asyncio.gather(*(grab(b, reply) for b in budgets for reply in (False, True)))
    await other.dispose()
    async with session_factory(pg_engine)() as session:
        rows = (await session.execute(select(SendBudgetRow))).scalars().all()
    per_slot = {row.slot: row.broadcasts + row.replies for row in rows}
    assert sum(b.granted for b in budgets) == sum(per_slot.values()) > 20
    for slot in per_slot:
        in_window = sum(n for s, n in per_slot.items() if slot - WINDOW_SLOTS < s <= slot)
        assert in_window <= 20, (slot, in_window)


@pytest.mark.slow
async def test_web_and_two_workers_keep_one_limit_and_answer_start_within_a_second(
    pg_url: str, pg_engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(pg_engine)
    newcomers = list(range(FIRST_NEWCOMER, FIRST_NEWCOMER + NEWCOMERS))
    pushed: dict[int, float] = {}
    procs: list[asyncio.subprocess.Process] = []
    async with FakeBotAPI(global_rate=RATE) as api:
        await fan_out(sessions, READERS)
        env = bot_environment(api, pg_url, RATE)
        try:
            procs.append(await start_bot(tmp_path, env, "web.log", "--role", "web"))
            procs.append(await start_worker(tmp_path, env, "first"))
            procs.append(await start_worker(tmp_path, env, "second"))
            await wait_for_log(tmp_path / "web.log", "role web", 30)
            await api.wait_for(lambda: len(api.sent) >= 40, within=30)
            for user in newcomers:  # eight a second while the broadcast goes on
                pushed[user] = time.monotonic()
                api.push_message(user, user, "/start")
                await asyncio.sleep(0.125)
            during = len(api.sent)
            await api.wait_for(lambda: all(api.messages_to(user) for user in newcomers), within=20)
            await wait_until_done(sessions, within=60)
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(proc.wait(), 30)

    latencies = sorted(api.messages_to(user)[0].at - pushed[user] for user in newcomers)
    print(
        f"/start answered in {latencies[len(latencies) // 2]:.3f} s (median), "
        f"{latencies[-1]:.3f} s (slowest); peak {api.peak_rate():.0f}/s; "
        f"violations {api.limit_violations}"
    )
    assert during < READERS, "the newcomers did not come during the broadcast"
    assert api.limit_violations == 0, api.violations[:5]
    assert latencies[-1] <= 1.0
    readers = Counter(m.chat_id for m in api.sent if m.chat_id not in pushed)
    assert len(readers) == READERS and max(readers.values()) == 1
    assert api.peak_rate() <= RATE * 1.05 + 1
