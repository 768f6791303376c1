"""Polling state read and written for many feeds at once (group reads and commits).

A poll that ends in a 304 only reads its feed's row and writes back its polling columns.
Each used to take its own read session and its own write transaction in the process's
write queue, building its statements anew: with thousands of feeds that was most of a
poll's CPU, and a cycle of 5 000 polls started together queued for the connection pool
until some timed out (issue 16, item 4). Here requests made while another batch is in
the database wait for the next one, which takes all of them: under load one statement
serves many feeds; when idle a lone request goes at once (no timer, no added delay).
Statements are built once (``bot.storage.feeds``).

While one write batch is in the database the 304s of a busy cycle arrive a few at a
time (the fetches finish one by one), so a batch that follows another right away first
lingers :data:`WRITE_LINGER` for more to join it: a cycle of 5 000 304s took some 900
write transactions of five or six rows each, a begin and a commit per handful. The first
request after a quiet spell still goes at once.

A poll still waits for its own row (read, or committed) before it goes on, so a report
never says more than the database holds; a failed batch fails each of its polls, which
the ingestor reports as failed as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.storage.engine import Transaction
from bot.storage.feeds import polling_rows, write_polled
from scheduler.ingest.polling import FeedState

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession

Writer = Transaction
Item = TypeVar("Item")
Out = TypeVar("Out")

#: Requests per statement at most (SQLite's bound parameters stay far below its limit).
BATCH = 500
#: Seconds a write batch that follows another waits for more 304s to join it.
WRITE_LINGER = 0.02


class Batcher(Generic[Item, Out]):
    """Calls ``run`` with every item requested while the previous call was running."""

    def __init__(
        self, run: Callable[[list[Item]], Awaitable[Sequence[Out]]], *, linger: float = 0.0
    ) -> None:
        self._run = run
        self._linger = linger  # seconds a batch right after another waits to fill
        self._pending: list[tuple[Item, asyncio.Future[Out]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Out:
        done: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # A cancelled poll cancels only its own future: the batch stays whole (the
        # flush skips futures already done).
        return await done

    async def _flush(self) -> None:
        follows = False
        while self._pending:
            if follows and self._linger and len(self._pending) < BATCH:
                await asyncio.sleep(self._linger)  # busy: let the next batch fill
            follows = True
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as exc:  # each request of the batch reports it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)


async def read_states(session: AsyncSession, urls: Sequence[str]) -> list[FeedState | None]:
    """Each URL's feed state, ``None`` for a feed never seen; one statement."""
    found = await polling_rows(session, urls)
    return [FeedState.of(found[url]) if url in found else None for url in urls]


class PollingState:
    """Feed states read, and 304 polling states written, in shared statements."""

    def __init__(self, read: Transaction, write: Writer) -> None:
        self._session = read
        self._write = write
        self.read: Batcher[str, FeedState | None] = Batcher(self._read_many)
        self.write: Batcher[dict[str, Any], None] = Batcher(self._write_many, linger=WRITE_LINGER)

    async def _read_many(self, urls: list[str]) -> list[FeedState | None]:
        async with self._session() as session:
            return await read_states(session, urls)

    async def _write_many(self, rows: list[dict[str, Any]]) -> list[None]:
        async with self._write() as session:
            await write_polled(session, rows)
        return [None] * len(rows)
