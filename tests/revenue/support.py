"""Helpers shared by the revenue tests: a running bot, a free port, click counts."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from bot.storage.engine import create_engine, session_factory
from bot.storage.models import ClickRow
from tests.e2e.support import make_settings as settings_for
from tests.e2e.support import running

__all__ = ["count_clicks", "free_port", "running", "settings_for"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
