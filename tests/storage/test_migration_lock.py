"""Several processes starting on one PostgreSQL database: one migrates, the others wait."""

from __future__ import annotations

import asyncio
import logging

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.engine import create_engine
from bot.storage.migrate import alembic_config, current_revision, upgrade


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("the migration lock exists only on PostgreSQL")
    return database_url


async def test_concurrent_starts_migrate_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engines = [create_engine(postgres_url) for _ in range(4)]
    caplog.set_level(logging.INFO, logger="alembic.runtime.migration")
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert await current_revision(engines[0]) == head
    finally:
        for engine in engines:
            await engine.dispose()
    first_steps = [r for r in caplog.records if "Running upgrade  -> 0001" in r.getMessage()]
    assert len(first_steps) == 1, "each migration ran exactly once"


async def test_a_start_waits_while_another_process_migrates(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.storage.migrate")
    holder, waiter = create_engine(postgres_url), create_engine(postgres_url)
    try:
        async with holder.begin() as conn:  # another process, mid-migration
            key = "hashtext('newsbot.migrate:' || current_schema())"
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({key})"))
            waiting = asyncio.create_task(upgrade(waiter))
            await asyncio.sleep(1.5)
            assert not waiting.done()
            assert await current_revision(holder) is None  # nothing migrated meanwhile
        await asyncio.wait_for(waiting, 30)  # the lock is released: it migrates now
        assert await current_revision(waiter) is not None
    finally:
        await holder.dispose()
        await waiter.dispose()
    assert any("waiting for it" in r.getMessage() for r in caplog.records)
