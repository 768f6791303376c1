"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.migrate import current_revision, upgrade
from bot.storage.models import Base


async def test_upgrade_creates_every_model_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert await current_revision(engine) is not None


async def test_upgrade_is_idempotent(engine: AsyncEngine) -> None:
    before = await current_revision(engine)
    await upgrade(engine)
    assert await current_revision(engine) == before


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    """A model change without a migration shows up as an autogenerate diff."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(conn: object) -> list[object]:
        ctx = MigrationContext.configure(conn)  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_every_connection_bounds_its_waits(engine: AsyncEngine) -> None:
    """No database call may wait for ever: timeouts and keepalives on every connection."""
    import socket

    from sqlalchemy import text

    from bot.storage import engine as settings

    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            busy = await conn.scalar(text("PRAGMA busy_timeout"))
            assert busy == settings.SQLITE_BUSY_TIMEOUT_MS
            return
        shown = {
            name: await conn.scalar(text(f"SELECT current_setting('{name}')"))
            for name in settings.postgres_server_settings()
        }
        assert shown == {
            "statement_timeout": "30s",
            "idle_in_transaction_session_timeout": "1min",
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
            "tcp_user_timeout": "20000",
            "jit": "off",
        }
        raw = await conn.get_raw_connection()
        sock = raw.driver_connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 20_000
