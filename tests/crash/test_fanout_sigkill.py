"""SIGKILL a process in the middle of an article's private fan-out, again and again.

The article is stored as a poll stores it (its channel row in the same transaction, its
private fan-out marked to do); a separate process then enqueues the private rows in
small chunks and is killed at random points. After the last run every private
subscriber has exactly one row for the article (none lost, none twice) and the fan-out
is marked done.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import ArticleRow, ChatRegionRow, ChatRow, OutboxRow
from scheduler.ingest.apply import Plan, apply_plan
from tests.crash.support import (
    REPO,
    add_private_readers,
    metro_article,
    now,
    reader_ids,
    reader_row,
)

pytestmark = pytest.mark.exclusive

READERS = 3000
CHUNK = 40
KILLS = 3

# The fan-out runner of the bot, alone in a process, with a pause after each chunk's
# commit so that a kill lands in the middle.
CHILD = """
import asyncio, contextlib, sys
from bot.clock import SystemClock
from bot.storage.engine import create_engine, session_factory
from scheduler.ingest.fanout import FanOut

async def main(url: str, chunk: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)

    @contextlib.asynccontextmanager
    async def write():
        async with sessions.begin() as session:
            yield session
        await asyncio.sleep(0.01)

    fanout = FanOut(write, SystemClock(), unmatched_to_all=True, on_enqueued=lambda: None,
                    chunk=chunk)
    await fanout.drain()
    await engine.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def publish(sessions: async_sessionmaker[AsyncSession]) -> int:
    """One channel and one article stored as a poll stores it; returns the article id."""
    async with sessions.begin() as session:
        channel = {**reader_row("-1001000000001", now()), "kind": "channel", "priority": 0}
        chat_id = await session.scalar(insert(ChatRow).values(**channel).returning(ChatRow.id))
        await session.execute(insert(ChatRegionRow), [{"chat_id": chat_id, "region": "georgia"}])
        article = metro_article("crash-fanout", "The new line opens next spring.")
        saved = await apply_plan(session, Plan(0, "crash", [article]), now())
        assert (saved.stored, saved.deliveries) == (1, 1)  # the channel's row, no other
        article_id = await session.scalar(select(ArticleRow.id))
    assert article_id is not None
    return article_id


async def private_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(private rows, distinct private chats among them)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(func.count(), func.count(func.distinct(OutboxRow.chat_id)))
                .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
                .where(ChatRow.kind == "private")
            )
        ).one()
    return int(row[0]), int(row[1])


async def cursor(sessions: async_sessionmaker[AsyncSession], article_id: int) -> int | None:
    async with sessions() as session:
        return await session.scalar(
            select(ArticleRow.fanout_after).where(ArticleRow.id == article_id)
        )


async def start(database_url: str, workdir: Path) -> asyncio.subprocess.Process:
    log = (workdir / "fanout.log").open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            database_url,
            str(CHUNK),
            cwd=REPO,
            stdout=log,
            stderr=log,
        )
    finally:
        log.close()


async def kill_when(
    sessions: async_sessionmaker[AsyncSession], process: asyncio.subprocess.Process, rows: int
) -> None:
    """SIGKILL once at least ``rows`` private rows exist."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while (await private_rows(sessions))[0] < rows:
        if process.returncode is not None or loop.time() > deadline:
            pytest.fail(f"the fan-out ended before {rows} rows ({process.returncode})")
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()


@pytest.mark.slow
async def test_sigkill_mid_private_fan_out_loses_and_repeats_nothing(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(READERS), "georgia")
    article_id = await publish(sessions)
    assert await private_rows(sessions) == (0, 0)
    marks = sorted(rng.sample(range(CHUNK, READERS - 4 * CHUNK), KILLS))
    for mark in marks:
        process = await start(database_url, tmp_path)
        try:
            await kill_when(sessions, process, mark)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert await cursor(sessions, article_id) is not None, f"seed={seed}: killed too late"
    process = await start(database_url, tmp_path)
    assert await asyncio.wait_for(process.wait(), 120) == 0, (tmp_path / "fanout.log").read_text()
    assert await private_rows(sessions) == (READERS, READERS), f"seed={seed} marks={marks}"
    assert await cursor(sessions, article_id) is None
