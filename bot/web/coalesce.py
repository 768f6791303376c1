"""One job per key at a time: requests for a key already being worked on are merged.

A CMS often notifies several times for one post within seconds (publish, then the
save of its meta boxes, then an editor's quick fix). Each notice means "read this
post again", so while one read of a post runs, further notices for it are merged
into a single read that starts when the running one ends: any number of notices
during a read cost one more read, never one each, and the last version is read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.storage.failures import log_failure

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    """Runs ``work(value)`` in the background, at most one at a time per key.

    ``merge(waiting, newer)`` combines a request waiting for its turn with a newer
    one for the same key (by default the newer replaces it).
    """

    def __init__(
        self,
        work: Callable[[V], Awaitable[object]],
        merge: Callable[[V, V], V] | None = None,
    ) -> None:
        self._work = work
        self._merge = merge or (lambda _waiting, newer: newer)
        self._running: set[K] = set()
        self._waiting: dict[K, V] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: K, value: V) -> bool:
        """Start work for ``key`` now (True), or merge into the run after the current one."""
        if key in self._running:
            waiting = self._waiting.get(key)
            self._waiting[key] = value if waiting is None else self._merge(waiting, value)
            return False
        self._running.add(key)
        task = asyncio.create_task(self._drive(key, value))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _drive(self, key: K, value: V) -> None:
        try:
            while True:
                try:
                    await self._work(value)
                except Exception as exc:  # one failing job must not stop the others
                    log_failure(log, exc, "background job for %r failed", key)
                if key not in self._waiting:
                    return
                value = self._waiting.pop(key)
        finally:
            self._running.discard(key)
            self._waiting.pop(key, None)

    async def drain(self, within: float) -> None:
        """Wait (at most ``within`` seconds) for the jobs in progress to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
