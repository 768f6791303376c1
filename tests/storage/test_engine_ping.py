"""A pooled PostgreSQL connection that idled is pinged before use; a busy one is not.

The sender takes a connection from the pool several times per burst; SQLAlchemy's
``pool_pre_ping`` would ping (three round trips with asyncpg) on each of them. The bot
pings only connections that sat idle (``bot.storage.engine._ping_if_idle``), so a
connection the server dropped while idle must still be replaced without an error.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.storage import engine as engine_module
from bot.storage.engine import create_engine


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool's ping concerns PostgreSQL")
    return database_url


async def _backend_pid(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    finally:
        await engine.dispose()


async def _kill(url: str, pid: int) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
    finally:
        await engine.dispose()


async def test_a_connection_dropped_while_idle_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 0.0)  # every checkout has idled
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as conn:
            first = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await _kill(pg_url, first)
        async with engine.connect() as conn:  # the ping fails: a new connection is used
            second = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_just_used_is_not_pinged(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 3600.0)
    engine = create_engine(pg_url)
    pings = 0
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection  # asyncpg's connection: it logs each query
            assert driver is not None

            def count(record: Any) -> None:
                nonlocal pings
                pings += record.query.strip() == ";"  # the ping's empty statement

            driver.add_query_logger(count)
        for _ in range(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert pings == 0
        monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 0.0)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert pings == 1
    finally:
        await engine.dispose()
