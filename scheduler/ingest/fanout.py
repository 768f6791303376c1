"""The private fan-out, beside the polls and just ahead of the sender.

The ingest transaction commits an article with its channel and group rows and marks its
private fan-out to do (a cursor: :mod:`bot.storage.fanout`); the sender posts to
channels at once. This runner then enqueues the private rows one chunk per transaction:

- taking the same write turn as the polls, so another feed's poll waits for one chunk at
  most, never for a whole fan-out;
- one chunk of each pending article per round, so a breaking story never queues behind
  a long fan-out;
- no further than :data:`AHEAD` rows waiting to be sent per article: a million rows
  cost seconds to insert (``bench/enqueue.py``, all at once: 7.8 s on PostgreSQL and
  3.4 s on SQLite on the quiet 2-core machine) but hours to send at 30/s, so they
  are written as the sender needs them, not all up front. The first chunk goes at
  once; the next ones when the sender has used up the previous.

It is woken after each commit that started a fan-out and by a periodic job, which also
resumes fan-outs a dead process left unfinished. :meth:`FanOut.drain` enqueues
everything without the window (``newsbot poll --once``, tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.clock import Clock
from bot.leadership import LeaseLost
from bot.storage.engine import Transaction
from bot.storage.failures import log_failure
from bot.storage.fanout import CHUNK, fan_out_chunk, open_rows_at_least, pending_fanouts

log = logging.getLogger(__name__)

Write = Transaction

#: Rows of one article waiting to be sent before the next chunk is written: minutes of
#: sending at 30/s, tens of seconds at the paid 1000/s.
AHEAD = 2 * CHUNK
#: How often a runner whose articles all have enough rows waiting looks again.
TOP_UP_EVERY = 2.0


class FanOut:
    """Runs pending fan-outs in one background task per process."""

    def __init__(
        self,
        write: Write,
        clock: Clock,
        *,
        unmatched_to_all: bool,
        known_topics: tuple[str, ...] | None = None,
        on_enqueued: Callable[[], None],
        chunk: int = CHUNK,
        ahead: int = AHEAD,
    ) -> None:
        self._write = write
        self._clock = clock
        self._unmatched_to_all = unmatched_to_all
        self._known_topics = known_topics
        self._on_enqueued = on_enqueued
        self._chunk = chunk
        self._ahead = ahead
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._draining = 0
        self._stopping = False
        self._counts: dict[int, int] = {}

    def kick(self) -> asyncio.Task[None] | None:
        """Make sure pending fan-outs are being enqueued (a new one was committed)."""
        if self._stopping:
            return None
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="private fan-out")
        return self._task

    async def drain(self) -> None:
        """Return once every pending fan-out is wholly enqueued, window or not."""
        self._draining += 1
        try:
            while (task := self.kick()) is not None:
                await asyncio.shield(task)
                if self._task is task:
                    return
        finally:
            self._draining -= 1

    async def stop(self) -> None:
        """Finish the chunk in progress and stop (shutdown: the cursor keeps the rest,
        and the next :meth:`kick` or periodic run carries on from there)."""
        self._stopping = True
        self._wake.set()
        try:
            if self._task is not None:
                with contextlib.suppress(Exception):
                    await self._task
        finally:
            self._stopping = False

    async def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                pending, progress = await self._round()
                if not pending:
                    return
                if not progress:  # every article has enough rows waiting: look again later
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), TOP_UP_EVERY)
        except LeaseLost:  # the new leader's runner carries on from the cursors
            log.warning("private fan-out stopped: this process no longer leads the scheduler")
        except Exception as exc:  # the cursors are intact: the periodic job tries again
            log_failure(log, exc, "private fan-out failed; resumed by the next run")

    async def _round(self) -> tuple[bool, bool]:
        """One chunk of each pending article that needs one: (any pending, any chunk)."""
        async with self._write() as session:
            pending = await pending_fanouts(session)
        progress = False
        for article_id in pending:
            if self._stopping:
                break
            if self._draining or not await self._full(article_id):
                await self._chunk_of(article_id)
                progress = True
        return bool(pending), progress

    async def _full(self, article_id: int) -> bool:
        async with self._write() as session:
            return await open_rows_at_least(session, article_id, self._ahead)

    async def _chunk_of(self, article_id: int) -> None:
        async with self._write() as session:
            rows, done = await fan_out_chunk(
                session,
                article_id,
                self._clock.now(),
                unmatched_to_all=self._unmatched_to_all,
                known_topics=self._known_topics,
                size=self._chunk,
            )
        if rows:
            self._on_enqueued()
        total = self._counts.pop(article_id, 0) + rows
        if done:
            log.info("article %d: %d private deliveries enqueued", article_id, total)
        else:
            self._counts[article_id] = total
