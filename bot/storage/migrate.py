"""Apply the Alembic migrations shipped inside the package.

Used by ``newsbot db upgrade`` and at the start of ``newsbot run``; works the
same for SQLite and PostgreSQL because Alembic runs on the async engine's
connection through ``run_sync``.

Several processes starting at once on one PostgreSQL database (a web process and
workers after an upgrade) must not run the same migration twice: each takes a
transaction-scoped advisory lock, per schema, before Alembic looks at the version.
One migrates; the others wait for its commit, then find the schema at the latest
version and have nothing to do.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_POLL = 0.5  # seconds between tries for the migration lock

log = logging.getLogger(__name__)
# Short statements in a loop rather than one blocking wait: the connection's command
# timeout would end a long wait, and the loop can say once that it is waiting.
_TRY_LOCK = text(
    "SELECT pg_try_advisory_xact_lock(hashtext('newsbot.migrate:' || current_schema()))"
)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent).

    A migration may rebuild an index on a large table: the bot's usual statement
    timeout does not apply to it.
    """
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL statement_timeout = 0"))
            await _wait_for_migration_lock(conn)
        await conn.run_sync(_upgrade, revision)


async def _wait_for_migration_lock(conn: AsyncConnection) -> None:
    """Hold the schema's migration lock until this transaction ends."""
    told = False
    while not await conn.scalar(_TRY_LOCK):
        if not told:
            log.info("another process is migrating the database; waiting for it")
            told = True
        await asyncio.sleep(LOCK_POLL)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
