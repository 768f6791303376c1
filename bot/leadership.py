"""Leadership on PostgreSQL: one scheduler and one sender across many worker processes.

Each guarded part has a row in ``leases``: a holder, an expiry on the database server's
clock and an epoch that grows by one at each change of holder (DESIGN.md decision 5 and
its pitfalls). The leader renews its lease every ``renew_every`` seconds; a standby takes
the row once it has expired. Nothing depends on the server noticing a dead socket, which
a pooler or TCP proxy in between may keep alive for hours:

- the leader counts its lease valid until ``ttl`` minus a margin after the moment it
  *sent* its last successful renewal (the server's expiry can only be later), and stops
  at once when a renewal is not confirmed within ``confirm_within`` seconds, or when that
  validity runs out;
- every sender transaction checks the epoch first (:meth:`Leadership.fence`), holding a
  share lock on the lease row until it commits: a leader that was cut off and comes back
  cannot claim, give back or recover rows its successor owns; its transaction fails;
- every scheduler transaction checks it last, just before its commit
  (:meth:`Leadership.confirm`, through :mod:`bot.fencing`): an old scheduler leader's
  poll, fan-out chunk, digest or retention batch is rolled back.

A renewal whose connection was reset is tried again while ``confirm_within`` lasts, and
a leader that stopped by its own clock takes its lease back at once (a new epoch) when
nobody else took it meanwhile.

A standby therefore sends within ``ttl`` plus one ``retry`` (plus the sender's takeover
pause) of the leader's silence, and the two never claim at the same time.

SQLite has one writer and one process: there the work simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.storage import leases
from bot.storage.leases import Term

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Work = Callable[[asyncio.Event], Awaitable[None]]
T = TypeVar("T")

LEASE_TTL = 5.0  # seconds a renewal keeps the lease
RENEW_EVERY = 1.0  # seconds between renewals
CONFIRM_WITHIN = 2.0  # seconds a renewal may take before the leader stops
MARGIN = 1.0  # seconds the leader stops before its lease could expire on the server
STANDBY_RETRY = 1.0  # seconds between a standby's attempts to take an expired lease
RENEW_RETRY = 0.2  # seconds between tries of a renewal whose connection failed
# A fenced transaction holds the lease row's share lock: if its client goes silent, the
# server ends the transaction this soon, so a successor is not kept waiting for the lock.
FENCED_IDLE_MS = 3000


class LeaseLost(Exception):
    """This process no longer holds the lease: its transaction must not commit."""


def holder_id() -> str:
    """Who holds a lease, as operators read it: host, process and a random tail."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership:
    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        *,
        retry: float = STANDBY_RETRY,
        ttl: float = LEASE_TTL,
        renew_every: float = RENEW_EVERY,
        confirm_within: float = CONFIRM_WITHIN,
    ) -> None:
        if not 0 < confirm_within + MARGIN < ttl:
            raise ValueError("the lease must outlive a renewal's wait plus the margin")
        self._engine = engine
        self.name = name
        self.holder = holder_id()
        self._retry = retry
        self._ttl = ttl
        self._renew_every = renew_every
        self._confirm_within = confirm_within
        self.is_leader = False
        self.epoch = 0
        self._valid_until = 0.0  # monotonic; the lease is ours until then at most
        self._inner: asyncio.Event | None = None
        self._background: set[asyncio.Task[object]] = set()

    @property
    def needed(self) -> bool:
        return leases.needed(self._engine)

    async def run(self, stop: asyncio.Event, work: Work) -> None:
        """Run ``work`` whenever this process holds the lease, until ``stop`` is set."""
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

    # ---- the lease's statements ------------------------------------------------------

    def _term(self) -> Term:
        return Term(self.name, self.holder, self.epoch)

    async def _take(self) -> int | None:
        """The lease's new epoch if it was free (expired or never taken), else None."""
        return await leases.take(self._engine, self.name, self.holder, self._ttl)

    async def _renew(self) -> bool:
        return await leases.renew(self._engine, self._term(), self._ttl)

    async def _release(self) -> None:
        await leases.release(self._engine, self._term())

    def holds(self) -> bool:
        """The lease is ours by the local clock: nothing may leave otherwise."""
        if not self.needed:
            return True
        return self.is_leader and asyncio.get_running_loop().time() < self._valid_until

    async def fence(self, session: AsyncSession) -> None:
        """Raise :class:`LeaseLost` unless this process still holds the lease.

        Call it first in a transaction: it holds the lease row's share lock until the
        transaction ends, so no successor can take the lease in between.
        """
        if not self.needed:
            return
        if not self.holds():
            self._lose("its lease ran out")
            raise LeaseLost(self.name)
        if not await leases.fence(session, self._term(), FENCED_IDLE_MS):
            self._lose("another process holds its lease")
            raise LeaseLost(self.name)

    def term(self) -> Term | None:
        """The term a single statement fences on the server itself (``bot.storage.
        direct_claims``), None when no lease is needed; raises :class:`LeaseLost` when
        the local clock says the lease ran out."""
        if not self.needed:
            return None
        if not self.holds():
            self._lose("its lease ran out")
            raise LeaseLost(self.name)
        return self._term()

    def refused(self) -> LeaseLost:
        """The server found the term gone: this process no longer leads (the error to raise)."""
        self._lose("another process holds its lease")
        return LeaseLost(self.name)

    def confirm(self, session: Session) -> None:
        """:meth:`fence` for a synchronous hook: called last, just before a commit
        (``bot.fencing``), it holds the lease row's share lock only for the commit."""
        if not self.needed:
            return
        if not self.holds():
            self._lose("its lease ran out")
            raise LeaseLost(self.name)
        if not leases.confirm(session, self._term(), FENCED_IDLE_MS):
            self._lose("another process holds its lease")
            raise LeaseLost(self.name)

    # ---- one term ------------------------------------------------------------------

    async def _lead_once(self, stop: asyncio.Event, work: Work) -> None:
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        epoch = await self._take()
        if epoch is None:
            return
        self.epoch = epoch
        self._valid_until = asked_at + self._ttl - MARGIN
        self.is_leader = True
        self._inner = inner = asyncio.Event()
        log.info("became leader of %s (epoch %d)", self.name, epoch)
        watchdog = asyncio.create_task(self._watch(stop, inner))
        try:
            await work(inner)
        finally:
            inner.set()
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            still_valid = self.is_leader and loop.time() < self._valid_until
            self.is_leader = False
            if still_valid:  # a clean stop: a standby may take over at once
                with contextlib.suppress(Exception):
                    await self._bounded(self._release(), self._confirm_within)
            log.info("gave up leadership of %s (epoch %d)", self.name, epoch)

    async def _watch(self, stop: asyncio.Event, inner: asyncio.Event) -> None:
        """Renew the lease; end the work when asked to stop or when it is not confirmed."""
        loop = asyncio.get_running_loop()
        while not stop.is_set() and not inner.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._renew_every)
            if stop.is_set() or inner.is_set():
                break
            asked_at = loop.time()
            within = min(self._confirm_within, self._valid_until - asked_at)
            try:
                renewed = await self._renew_within(within)
            except Exception as exc:
                self._lose(f"its renewal failed: {exc!r}")
                break
            if renewed is None:
                self._lose(f"its renewal was not confirmed within {within:.1f} s")
                break
            self._valid_until = renewed + self._ttl - MARGIN
        inner.set()

    async def _renew_within(self, within: float) -> float | None:
        """When (loop time) the confirmed renewal was sent, or None if none was confirmed
        within ``within`` seconds or the lease is someone else's now.

        A connection reset (a restarted pooler, a failed-over address) is not the end:
        the renewal is tried again on a fresh connection while time is left; only the
        last failure is raised.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (left := deadline - loop.time()) > 0:
            asked_at = loop.time()
            try:
                confirmed = await self._bounded(self._renew(), left)
            except Exception:
                if deadline - loop.time() <= RENEW_RETRY:
                    raise
                await asyncio.sleep(RENEW_RETRY)
                continue
            return asked_at if confirmed else None
        return None

    def _lose(self, why: str) -> None:
        if self.is_leader:
            log.error("%s leadership lost: %s; stopping at once", self.name, why)
        self.is_leader = False
        if self._inner is not None:
            self._inner.set()

    async def _bounded(self, call: Awaitable[T], within: float) -> T | None:
        """``call``'s result, or None when it takes longer than ``within`` seconds.

        The call is not cancelled (a cancelled database call may wait on its dead socket
        to clean up); it finishes in the background, bounded by the command timeout.
        """
        task: asyncio.Task[T] = asyncio.ensure_future(call)
        done, _ = await asyncio.wait({task}, timeout=within)
        if task in done:
            return task.result()
        self._background.add(task)
        task.add_done_callback(self._forget)
        return None

    def _forget(self, task: asyncio.Task[object]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("late %s lease call failed: %r", self.name, task.exception())
