"""Several worker processes on one PostgreSQL database: one sends, a standby takes over."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leadership import Leadership
from bot.storage.engine import create_engine, session_factory
from bot.storage.migrate import upgrade
from tests.conftest import postgres_url
from tests.crash.support import bot_environment, fan_out, start_bot, states, wait_until_done
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.skipif(
    postgres_url() is None, reason="needs PostgreSQL (NEWSBOT_TEST_POSTGRES_URL); .ci/run sets it"
)

READERS = 400
RATE = 150.0


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("leadership exists only on PostgreSQL")
    return database_url


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def start_worker(workdir: Path, env: dict[str, str], name: str) -> asyncio.subprocess.Process:
    return await start_bot(workdir, env, f"{name}.log", "--role", "worker")


async def wait_for_log(path: Path, text: str, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{path.name} never said {text!r}:\n{path.read_text(errors='replace')[-3000:]}"
    )


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
