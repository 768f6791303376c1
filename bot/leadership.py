"""Leadership on PostgreSQL: one scheduler and one sender across many worker processes.

Each guarded part holds a session-level advisory lock on a dedicated
connection while it works (DESIGN.md decision 5). When the leader dies, the
database drops its connection and the lock with it; a standby, retrying every
``retry`` seconds, takes over. The leader also checks its own connection: if
the connection is lost, it stops working at once, since another process may
already hold the lock.

SQLite has one writer and one process: there the work simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

Work = Callable[[asyncio.Event], Awaitable[None]]

# Locks are per database; the schema in use scopes them, so two deployments (or test
# runs) sharing one database in different schemas never block each other.
_SCOPE = "hashtext('newsbot:' || current_schema())"


def lock_key(name: str) -> int:
    """A stable 31-bit advisory-lock key per guarded part."""
    return zlib.crc32(f"newsbot:{name}".encode()) & 0x7FFFFFFF


class Leadership:
    def __init__(self, engine: AsyncEngine, name: str, *, retry: float = 2.0) -> None:
        self._engine = engine
        self.name = name
        self._key = lock_key(name)
        self._retry = retry
        self.is_leader = False

    @property
    def needed(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def run(self, stop: asyncio.Event, work: Work) -> None:
        """Run ``work`` whenever this process holds the lock, until ``stop`` is set."""
        if not self.needed:
            await work(stop)
            return
        while not stop.is_set():
            try:
                await self._lead_once(stop, work)
            except Exception as exc:  # database unreachable: stay a standby and retry
                log.warning("%s leadership: %r; retrying", self.name, exc)
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._retry)

    async def _lead_once(self, stop: asyncio.Event, work: Work) -> None:
        async with self._engine.connect() as conn:
            got = await conn.scalar(
                text(f"SELECT pg_try_advisory_lock({_SCOPE}, :k)"), {"k": self._key}
            )
            await conn.commit()
            if not got:
                return
            self.is_leader = True
            log.info("became leader of %s", self.name)
            inner = asyncio.Event()
            watchdog = asyncio.create_task(self._watch(conn, stop, inner))
            try:
                await work(inner)
            finally:
                inner.set()
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
                self.is_leader = False
                with contextlib.suppress(Exception):
                    await conn.execute(
                        text(f"SELECT pg_advisory_unlock({_SCOPE}, :k)"), {"k": self._key}
                    )
                    await conn.commit()
                log.info("gave up leadership of %s", self.name)

    async def _watch(
        self, conn: AsyncConnection, stop: asyncio.Event, inner: asyncio.Event
    ) -> None:
        """End the work when asked to stop or when the lock's connection is lost."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry)
            if stop.is_set():
                break
            try:
                await conn.execute(text("SELECT 1"))
                await conn.commit()
            except Exception as exc:
                log.error("%s leadership lost with its connection: %r", self.name, exc)
                break
        inner.set()
