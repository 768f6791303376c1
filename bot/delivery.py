"""The sender loop: claim due outbox rows, pace them, publish them, record outcomes.

The loop owns timing and bookkeeping only; how a delivery becomes a Bot API
call is the ``Publisher``'s job (``handlers.publisher``), so the loop runs the
same against Telegram, a fake, or the dry-run printer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.metrics import DeliveryMetrics, shared_metrics
from bot.outbox import (
    Applied,
    Delivery,
    Outcome,
    Retry,
    Sent,
    backlog_counts,
    claim_due,
    mark_inflight,
    record_outcome,
    recover_after_crash,
    release,
)
from bot.pacing import Pacer
from bot.storage.models import OutboxRow

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, delivery: Delivery) -> Outcome:
        """Send one delivery; never raises (every failure is an Outcome)."""
        ...


OutcomeListener = Callable[[Delivery, Outcome, Applied], Awaitable[None]]


@dataclass
class SenderStats:
    """Counters the metrics endpoint and the benchmark read."""

    by_state: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    published: int = 0

    def count(self, state: str) -> None:
        self.by_state[state] = self.by_state.get(state, 0) + 1


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        pacer: Pacer,
        clock: Clock,
        *,
        batch_size: int | None = None,
        max_in_flight: int = 128,
        idle_poll: float = 1.0,
        on_outcome: OutcomeListener | None = None,
        metrics: DeliveryMetrics | None = None,
        backlog_every: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._pacer = pacer
        self._clock = clock
        self._batch = batch_size or max(8, min(500, int(pacer.rate * 2)))
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._idle_poll = idle_poll
        self._on_outcome = on_outcome
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_outcomes: list[tuple[Delivery, Outcome]] = []
        self._flush_lock = asyncio.Lock()
        self.stats = SenderStats()
        self.metrics = metrics or shared_metrics()
        self._backlog_every = backlog_every
        self._backlog_at = float("-inf")

    def wake(self) -> None:
        """New rows were enqueued: stop idling."""
        self._wake.set()

    async def recover(self) -> None:
        async with self._sessions.begin() as session:
            back, lost = await recover_after_crash(session, self._clock.now())
        if back or lost:
            log.warning(
                "outbox recovery: %d reserved rows re-queued, %d in-flight marked unknown",
                back,
                lost,
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; in-flight sends are finished and recorded."""
        await self.recover()
        try:
            while not stop.is_set():
                try:
                    await self.refresh_backlog()
                    sent = await self.step()
                except Exception:  # the database hiccuped: log, wait, carry on
                    log.exception("sender step failed; retrying shortly")
                    sent = 0
                if sent == 0:
                    await self._idle(stop)
        finally:
            await self._finish()

    async def drain(self, within: float = 300.0) -> None:
        """Send everything that is due now, then return (``poll --once``)."""
        await self.recover()
        deadline = self._clock.monotonic() + within
        while self._clock.monotonic() < deadline:
            if await self.step() == 0:
                await self._finish()
                if not await self._has_due_soon():
                    return
                await asyncio.sleep(0.2)
        await self._finish()

    async def refresh_backlog(self, force: bool = False) -> None:
        """Update the backlog gauge every ``backlog_every`` seconds (one cheap query)."""
        now = self._clock.monotonic()
        if not force and now - self._backlog_at < self._backlog_every:
            return
        self._backlog_at = now
        async with self._sessions() as session:
            self.metrics.set_backlog(await backlog_counts(session))

    async def _has_due_soon(self) -> bool:
        async with self._sessions() as session:
            soon = self._clock.now() + timedelta(seconds=5)
            return bool(await claim_probe(session, soon))

    async def _idle(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiter = asyncio.ensure_future(self._wake.wait())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {waiter, stopper}, timeout=self._idle_poll, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
            stopper.cancel()

    async def step(self) -> int:
        """One batch: claim, pace, dispatch; returns how many were dispatched."""
        async with self._sessions.begin() as session:
            batch = await claim_due(session, self._clock.now(), self._batch)
        if not batch:
            await self._flush_outcomes()
            return 0
        group: list[Delivery] = []
        later: dict[float, list[int]] = {}
        dispatched = 0
        for delivery in batch:
            now = self._clock.monotonic()
            delay = self._pacer.global_delay(now)
            if delay > 0:
                dispatched += await self._dispatch(group)
                group = []
                await self._flush_outcomes()
                await asyncio.sleep(delay)
                now = self._clock.monotonic()
            ready_at = self._pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now)
            if ready_at > now + 0.001:
                later.setdefault(round(ready_at - now, 1) + 0.1, []).append(delivery.id)
                continue
            self._pacer.commit(delivery.chat_key, delivery.chat_kind, now)
            group.append(delivery)
        dispatched += await self._dispatch(group)
        if later:
            async with self._sessions.begin() as session:
                for wait, ids in later.items():
                    await release(session, ids, self._clock.now() + timedelta(seconds=wait))
        await self._flush_outcomes()
        return dispatched + sum(len(v) for v in later.values())

    async def _dispatch(self, group: list[Delivery]) -> int:
        """Mark a group in flight in one write, then fire its requests."""
        if not group:
            return 0
        async with self._sessions.begin() as session:
            await mark_inflight(session, [d.id for d in group], self._clock.now())
        for delivery in group:
            await self._in_flight.acquire()
            task = asyncio.create_task(self._send(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(group)

    async def _send(self, delivery: Delivery) -> None:
        try:
            outcome = await self._publisher.publish(delivery)
        except Exception as exc:  # a publisher bug must not lose the row's state
            log.exception("publisher failed on outbox row %d", delivery.id)
            outcome = Retry(error=f"internal error: {exc!r}")
        finally:
            self._in_flight.release()
        self.stats.published += 1
        if isinstance(outcome, Retry) and outcome.pause_all and outcome.after:
            self.stats.rate_limited += 1
            self.metrics.throttled(delivery.chat_kind)
            self._pacer.pause(self._clock.monotonic() + outcome.after)
            log.warning("Telegram asked to wait %.0f s (429); sending paused", outcome.after)
        self._pending_outcomes.append((delivery, outcome))

    async def _flush_outcomes(self) -> None:
        async with self._flush_lock:
            if not self._pending_outcomes:
                return
            batch, self._pending_outcomes = self._pending_outcomes, []
            now = self._clock.now()
            applied: list[tuple[Delivery, Outcome, Applied]] = []
            async with self._sessions.begin() as session:
                sent = [(d, o) for d, o in batch if isinstance(o, Sent)]  # narrowed below
                if sent:
                    await _bulk_sent(session, sent, now)
                    applied += [(d, o, Applied("sent")) for d, o in sent]
                for delivery, outcome in batch:
                    if isinstance(outcome, Sent):
                        continue
                    result = await record_outcome(session, delivery, outcome, now, random.random())
                    applied.append((delivery, outcome, result))
            for delivery, outcome, result in applied:
                self.stats.count(result.state)
                self.metrics.outcome(result.state, delivery.chat_kind, result.dropped)
                if self._on_outcome is not None:
                    await self._on_outcome(delivery, outcome, result)

    async def _finish(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._flush_outcomes()
        with contextlib.suppress(Exception):  # the gauge is best effort at shutdown
            await self.refresh_backlog(force=True)


async def _bulk_sent(session: AsyncSession, sent: list[tuple[Delivery, Sent]], now: object) -> None:
    """The common case in one executemany: sent rows keep their message ids."""
    await session.execute(
        update(OutboxRow),
        [
            {
                "id": d.id,
                "state": "sent",
                "message_id": o.message_id,
                "attempts": d.attempts + 1,
                "updated_at": now,
                "last_error": None,
            }
            for d, o in sent
        ],
    )


async def claim_probe(session: AsyncSession, before: object) -> int | None:
    """Id of one row that will be due before ``before``, if any (no reservation)."""
    from sqlalchemy import select

    return await session.scalar(
        select(OutboxRow.id)
        .where(
            OutboxRow.state.in_(("pending", "retry", "claimed")),
            OutboxRow.next_attempt_at <= before,
        )
        .limit(1)
    )
