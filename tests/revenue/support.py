"""Helpers shared by the revenue tests: a running bot, a free port, click counts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from sqlalchemy import func, select

from bot.app import run
from bot.catalog import Catalog
from bot.config import Settings
from bot.storage.engine import create_engine, session_factory
from bot.storage.models import ClickRow
from tests.fakes.botapi import FakeBotAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for(api: FakeBotAPI, database_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": api.token,
        "telegram_api_url": api.base_url,
        "database_url": database_url,
        "web_port": 0,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@contextlib.asynccontextmanager
async def running(settings: Settings, catalog: Catalog) -> AsyncIterator[None]:
    """``newsbot run`` in the background until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, catalog, dry_run=False, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def count_clicks(database_url: str, kind: str | None = None) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            query = select(func.count()).select_from(ClickRow)
            if kind:
                query = query.where(ClickRow.kind == kind)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()
