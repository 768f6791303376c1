"""One PostgreSQL connection held by a caller for its frequent statements.

The sender writes for every burst of a broadcast, and the shared budget is asked once per
burst. Through the engine, each statement also costs a pool checkout and return and
SQLAlchemy's execution path, several times what the driver spends on it (the sender's
share of ``bench/fanout.py``'s figures fell by a third without them, docs/benchmarks.md).
A held connection is taken from the engine's pool
once, in autocommit, so it carries the engine's server settings (statement timeout,
keepalives, search path) and counts against its pool size; its statements go to the driver
(asyncpg) directly, each prepared once per connection.

A connection that failed in any way (an error, a timeout, a cancellation in the middle of
a statement) is terminated, never reused in an unknown state; the next call takes a fresh
one from the pool. The holder closes it when it stops (:meth:`HeldConnection.close`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class HeldConnection:
    """A pooled connection in autocommit, held between calls, replaced after any failure.

    ``settings`` (name, value) are set on the connection when it is taken and reset
    before it goes back to the pool, so they hold for this holder's statements only."""

    def __init__(self, engine: AsyncEngine, settings: Sequence[tuple[str, str]] = ()) -> None:
        self._settings = tuple(settings)
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._conn: AsyncConnection | None = None
        self._driver: Any = None  # the asyncpg connection under self._conn
        self._prepared: dict[str, Any] = {}

    async def fetch(self, sql: str, *args: object) -> Sequence[Any]:
        """The rows of one statement (its own transaction, as autocommit makes it)."""
        driver = await self._take()
        try:
            statement = self._prepared.get(sql)
            if statement is None:
                statement = self._prepared[sql] = await driver.prepare(sql)
            rows: Sequence[Any] = await statement.fetch(*args)
        except BaseException:
            await self._drop()
            raise
        return rows

    async def close(self) -> None:
        """Give the connection back to the pool (the next call takes one again), its
        settings reset; one that cannot be reset is dropped instead."""
        if self._driver is not None and self._settings:
            try:
                for name, _ in self._settings:
                    await self._driver.execute(f"RESET {name}")
            except BaseException:
                await self._drop()
                raise
        conn, self._conn, self._driver = self._conn, None, None
        self._prepared.clear()
        if conn is not None:
            await conn.close()

    async def _take(self) -> Any:
        if self._driver is None:
            conn = await self._engine.connect()
            try:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                for name, value in self._settings:
                    await driver.execute(f"SET {name} = {value}")
            except BaseException:
                await conn.invalidate()  # its settings are unknown: not back to the pool
                await conn.close()
                raise
            self._driver = driver
            self._conn = conn
        return self._driver

    async def _drop(self) -> None:
        """Terminate the connection (no goodbye to a server that may not answer) and
        tell the pool it is gone."""
        conn, driver, self._conn, self._driver = self._conn, self._driver, None, None
        self._prepared.clear()
        if driver is not None:
            driver.terminate()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
