"""A silent network partition of the leader: the standby sends within seconds, once.

The leader reaches PostgreSQL through a TCP proxy that stops forwarding while keeping
both of its sockets open (tests/fakes/tcpproxy.py), as a pooler or a proxy between the
bot and its database would: the server keeps the leader's sessions alive, and the
leader's own socket reports nothing. Its lease is what runs out; the standby takes it,
and when the partition heals, the old leader's held-back statements find a newer epoch.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.outbox.pacing import Pacer
from bot.storage.engine import create_engine, session_factory
from bot.storage.migrate import upgrade
from tests.crash.support import bot_environment, fan_out, states, wait_until_done
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tcpproxy import SilentProxy
from tests.multiprocess.support import start_worker, wait_for_log

pytestmark = pytest.mark.exclusive

READERS = 500
RATE = 50.0
TAKEOVER_TARGET = 10.0  # seconds from the partition to the standby's first message


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parsed = make_url(url).set(host="127.0.0.1", port=port)
    return parsed.render_as_string(hide_password=False)


async def stop_all(*procs: asyncio.subprocess.Process | None) -> None:
    for proc in procs:
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.mark.slow
async def test_silent_partition_of_the_leader(pg_url: str, tmp_path: Path) -> None:
    engine = create_engine(pg_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    target = make_url(pg_url)
    first = second = None
    try:
        async with (
            FakeBotAPI(global_rate=RATE) as api,
            SilentProxy(target.host or "127.0.0.1", target.port or 5432) as proxy,
        ):
            await fan_out(sessions, READERS)
            first = await start_worker(
                tmp_path, bot_environment(api, through(pg_url, proxy.port), RATE), "first"
            )
            await wait_for_log(tmp_path / "first.log", "became leader of sender", 20)
            second = await start_worker(tmp_path, bot_environment(api, pg_url, RATE), "second")
            await wait_for_log(tmp_path / "second.log", "role worker", 20)
            await api.wait_for(lambda: len(api.sent) >= 60, within=20)

            proxy.freeze()
            frozen_at = time.monotonic()
            await wait_for_log(tmp_path / "second.log", "became leader of sender", 15)
            # The old leader stopped before its lease could expire: whatever reaches the
            # API from now on comes from the new leader.
            before = len(api.sent)
            await api.wait_for(lambda: len(api.sent) > before, within=TAKEOVER_TARGET)
            took = api.sent[before].at - frozen_at
            await wait_for_log(tmp_path / "first.log", "sender leadership lost", 1)

            await asyncio.sleep(1.0)
            proxy.thaw()  # the old leader's held-back statements reach the server now
            final = await wait_until_done(sessions, within=40)
            await asyncio.sleep(2.0)  # time for anything the old leader still had to say
            final = await states(sessions)
            received = Counter(m.chat_id for m in api.sent)
            print(f"standby's first message {took:.1f} s after the partition; final {final}")
            assert took <= TAKEOVER_TARGET
            assert max(received.values()) == 1, "a reader got the article twice"
            assert set(final) <= {"sent", "unknown"}, final
            sent, unknown = final.get("sent", 0), final.get("unknown", 0)
            assert sent <= len(api.sent) <= sent + unknown
            assert len(received) >= READERS - unknown
            # At most the burst the old leader had marked when it went silent; what it had
            # sent is recorded as sent once it is heard again.
            assert unknown <= Pacer(RATE).burst, final
            assert api.limit_violations == 0, api.violations
    finally:
        await stop_all(first, second)
        await engine.dispose()
