"""Building blocks for tests that run ``python -m bot run`` as a real process.

A fan-out is set up directly in the database (chats, one article, its outbox rows),
the bot process is pointed at a FakeBotAPI running in the test process, and the test
kills and restarts it as it likes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.models import ChatRegionRow, ChatRow, OutboxRow
from tests.fakes.botapi import FakeBotAPI

REPO = Path(__file__).resolve().parents[2]
FIRST_READER = 700_000_001

CATALOG = """
[outlet]
name = "Caucasus Wire"
site = "https://caucasus-wire.example"
default_language = "en"
languages = ["en"]

[[regions]]
code = "georgia"
name = "Georgia"
keywords = ["georgia"]
timezone = "Asia/Tbilisi"
"""


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


TEST_SEND_REACH = 0.1  # seconds; see bot_environment


def reader_ids(count: int) -> list[int]:
    return list(range(FIRST_READER, FIRST_READER + count))


def reader_row(address: str, at: datetime) -> dict[str, Any]:
    """The columns of an active private subscriber (English, instant), created at ``at``."""
    return {
        "address": address,
        "thread_id": 0,
        "kind": "private",
        "title": "",
        "language": "en",
        "origin": "user",
        "active": True,
        "paused": False,
        "mode": "instant",
        "priority": 2,
        "created_at": at,
        "updated_at": at,
    }


async def add_private_readers(session: AsyncSession, ids: Iterable[int], region: str) -> None:
    """Subscribers created in bulk (two INSERTs), as an import would."""
    at = now()
    users = [str(user) for user in ids]
    rows = [reader_row(user, at) for user in users]
    await session.execute(insert(ChatRow), rows)
    chat_ids = list(await session.scalars(select(ChatRow.id).where(ChatRow.address.in_(users))))
    await session.execute(
        insert(ChatRegionRow), [{"chat_id": cid, "region": region} for cid in chat_ids]
    )


async def fan_out(sessions: async_sessionmaker[AsyncSession], readers: int) -> int:
    """``readers`` subscribers of Georgia and one Georgian article enqueued to all of them."""
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(readers), "georgia")
    created, article_id = await publish(sessions, "crash-1")
    assert created == readers
    return article_id


def metro_article(key: str, summary: str) -> NewArticle:
    """The tests' Georgian story, under ``key`` (its URL too)."""
    url = f"https://caucasus-wire.example/{key}/"
    return NewArticle(
        key=key,
        url=url,
        canonical_url=url,
        title="Tbilisi metro extends to the airport",
        summary=summary,
        language="en",
        regions=("georgia",),
        feed_id=None,
        published_at=None,
        announced=True,
    )


async def publish(sessions: async_sessionmaker[AsyncSession], key: str) -> tuple[int, int]:
    """One Georgian article enqueued to its subscribers: (rows created, article id)."""
    async with sessions.begin() as session:
        article = metro_article(
            key, "The new line opens next spring. It links the airport to the centre."
        )
        article_id = await insert_article(session, article, now())
        created = await enqueue_article(session, article_id, "en", ["georgia"], now())
    return created, article_id


async def states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
        )
        return {state: int(count) for state, count in rows}


def bot_environment(api: FakeBotAPI, database_url: str, rate: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_BOT_TOKEN=api.token,
        NEWSBOT_TELEGRAM_API_URL=api.base_url,
        NEWSBOT_DATABASE_URL=database_url,
        NEWSBOT_WEB_PORT="0",
        NEWSBOT_METRICS_PORT="0",
        NEWSBOT_BROADCAST_RATE=str(rate),
        # A loaded test machine may hold a written request back for a while before the
        # fake Bot API reads it: the pacing is checked with a wide margin for that.
        NEWSBOT_SEND_REACH=str(TEST_SEND_REACH),
        NEWSBOT_LOG_LEVEL="INFO",
        PYTHONPATH=str(REPO),
    )
    return env


async def start_bot(
    workdir: Path, env: dict[str, str], log_name: str, *run_args: str
) -> asyncio.subprocess.Process:
    """``python -m bot run [run_args]`` with a feedless catalog, its log in ``workdir``."""
    catalog = workdir / "catalog.toml"
    if not catalog.exists():
        catalog.write_text(CATALOG, encoding="utf-8")
    log = (workdir / log_name).open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--catalog",
            str(catalog),
            "run",
            *run_args,
            cwd=workdir,  # no stray .env from the repository
            env=env,
            stdout=log,
            stderr=log,
        )
    finally:
        log.close()


OPEN = ("pending", "retry", "claimed", "inflight")


async def wait_until_done(
    sessions: async_sessionmaker[AsyncSession], within: float
) -> dict[str, int]:
    """Poll the database until no outbox row is open; returns the final counts per state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        counts = await states(sessions)
        if not any(counts.get(s, 0) for s in OPEN):
            return counts
        if loop.time() > deadline:
            raise AssertionError(f"fan-out did not finish: {counts}")
        await asyncio.sleep(0.2)
