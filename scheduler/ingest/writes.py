"""The ingestor's write transactions: one at a time from this process, under the
scheduler's lease while it leads.

Polls, removal checks and the polling state's batched writes all go through
:meth:`Writes.write`; a private fan-out chunk goes through :meth:`Writes.write_beside`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class Writes:
    """Where and how the ingestor's transactions commit."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._leading: async_sessionmaker[AsyncSession] | None = None
        self._writes = asyncio.Lock()

    def lead(self, sessions: async_sessionmaker[AsyncSession] | None) -> None:
        """While this process leads the scheduler, every write commits only under its
        lease (``sessions`` from ``bot.fencing``): a leader cut off and back after a
        standby took over writes nothing. None when it no longer leads: the CMS pushes a
        web process receives are anyone's to store."""
        self._leading = sessions

    def _writing(self) -> async_sessionmaker[AsyncSession]:
        return self._leading or self._sessions

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction at a time from this process.

        Hundreds of feeds polled at once would otherwise compete for SQLite's single
        writer lock and some would time out ("database is locked"); the transactions
        are milliseconds long, so queueing them here costs PostgreSQL nothing.
        """
        async with self._writes, self._writing().begin() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write_beside(self) -> AsyncIterator[AsyncSession]:
        """A fan-out chunk's transaction: beside the polls' on PostgreSQL (row locks keep
        them apart), in their queue on SQLite (one writer at a time anyway)."""
        bind = self._sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "postgresql":
            async with self.write() as session:
                yield session
            return
        async with self._writing().begin() as session:
            yield session
