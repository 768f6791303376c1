"""The sender's ledger: outcomes that came back and rows to give back, until they are written.

The sender sends in waves and writes in transactions; what Telegram answered between two
transactions waits here, and is written first thing in the next one (with the claim of
the next batch), so a burst costs one transaction, not one per message. Reserved rows a
failed transaction could not give back (``stranded``) wait here too: nothing reserved is
forgotten while the process lives.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.metrics import DeliveryMetrics
from bot.outbox.queue import Applied, Delivery, Outcome, Sent
from bot.storage.delivery_claims import (
    inflight_by_kind,
    message_delivery,
    record_sent,
    recover_after_crash,
    release,
)
from bot.storage.delivery_kinds import enqueue_pins, reserved_messages
from bot.storage.delivery_outcomes import record_outcome
from bot.storage.direct_claims import DirectClaims
from bot.storage.failures import log_failure
from bot.storage.leases import Term
from bot.storage.send_budget import GrantAsk

# Its lines are the sender's, under the sender's name (operators filter logs by it).
log = logging.getLogger("bot.outbox.sender")

T = TypeVar("T")
OutcomeListener = Callable[[Delivery, Outcome, Applied], Awaitable[None]]
SENT = Applied("sent")
_FINAL_WRITES_WITHIN = 10.0  # seconds to record the last outcomes when the sender stops


class Lease(Protocol):
    """The right to send, on PostgreSQL (``bot.leadership.Leadership``)."""

    def holds(self) -> bool:
        """Still ours by the local clock (checked before every wave leaves)."""
        ...

    async def fence(self, session: AsyncSession) -> None:
        """First in a claiming transaction: raises ``LeaseLost`` unless still ours."""
        ...

    def term(self) -> Term | None:
        """The term one statement fences on the server (None: no lease needed); raises
        ``LeaseLost`` when the local clock says it ran out."""
        ...

    def refused(self) -> Exception:
        """The server found the term gone: the error to raise (``LeaseLost``)."""
        ...


@dataclass
class SenderStats:
    """Counters the metrics endpoint and the benchmark read."""

    by_state: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    published: int = 0

    def count(self, state: str) -> None:
        self.by_state[state] = self.by_state.get(state, 0) + 1


async def _nothing(_session: AsyncSession) -> None:
    return None


class Ledger:
    """Outcomes and stranded rows waiting for the sender's next transaction."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        stats: SenderStats,
        metrics: DeliveryMetrics,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stats = stats
        self._metrics = metrics
        self._on_outcome = on_outcome
        self.pending: list[tuple[Delivery, Outcome]] = []
        self.stranded: list[int] = []  # reserved rows to give back at the next chance
        self.lease: Lease | None = None
        # PostgreSQL: claims and waves in one statement each when they can (``direct_claims``).
        self.direct: DirectClaims | None = None
        self.budget_wait = 0.0  # seconds the shared budget asked the last claim to wait

    async def recover(self) -> None:
        """Rows left reserved by a stopped sender are queued again; rows it left in flight
        become ``unknown`` (and are counted as such in the metrics)."""

        async def recovery(session: AsyncSession) -> tuple[dict[str, int], int, int]:
            lost_by_kind = await inflight_by_kind(session)
            back, lost = await recover_after_crash(session, self._clock.now())
            return lost_by_kind, back, lost

        lost_by_kind, back, lost = await self.write(recovery, fenced=True)
        for kind, count in lost_by_kind.items():
            self._stats.by_state["unknown"] = self._stats.by_state.get("unknown", 0) + count
            self._metrics.outcome("unknown", kind, count=count)
        if back or lost:
            log.warning(
                "outbox recovery: %d reserved rows re-queued, %d in-flight marked unknown",
                back,
                lost,
            )

    async def put_back(
        self, later: dict[float, list[int]], queue: deque[Delivery], session: AsyncSession
    ) -> None:
        """Reserved rows not sent in this batch go back to the queue (no attempt counted)."""
        now = self._clock.now()
        for wait, ids in later.items():
            await release(session, ids, now + timedelta(seconds=wait))
        if queue:
            await release(session, [d.id for d in queue], now)

    async def write(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, fenced: bool = False
    ) -> T:
        """One transaction: the outcomes that came back so far, then ``work``.

        ``fenced`` work (claims, recovery) checks the lease first, if there is one.

        Reserved rows a failed transaction could not give back (``stranded``) are given
        back first. If this one fails too, outcomes and stranded rows wait for the next.
        """
        taken, self.pending = self.pending, []
        stranded, self.stranded = self.stranded, []
        try:
            async with self._sessions.begin() as session:
                if fenced and self.lease is not None:
                    await self.lease.fence(session)
                if stranded:
                    await release(session, stranded, self._clock.now())
                applied = await self._apply(session, taken)
                result = await work(session)
        except BaseException:
            self.pending[:0] = taken
            self.stranded[:0] = stranded
            raise
        await self._notify(applied)
        return result

    def direct_ready(self) -> bool:
        """The next claim may be one statement (``claim_direct``): on
        PostgreSQL, with nothing stranded and only plain sends to record (no pin to queue,
        no failure to weigh: those need ``write``'s transaction)."""
        return (
            self.direct is not None
            and not self.stranded
            and all(isinstance(o, Sent) and not d.pin for d, o in self.pending)
        )

    async def claim_direct(
        self, now: datetime, limit: int, ask: GrantAsk | None = None
    ) -> list[Delivery]:
        """Record the sends that came back and take up to ``limit`` due rows straight into
        flight, in sending order (one statement; rows of kinds other than posts are read
        after it). Those not sent are given back as reserved rows are (``put_back``).
        With ``ask`` only rows the shared budget grants are taken; when it granted none,
        ``budget_wait`` says for how long to leave the rest."""
        direct = self._direct()
        claimed = await self._record_with(
            lambda sent, term: direct.claim(sent, now, limit, term, ask)
        )
        if not claimed.fenced:
            raise self._refused()
        self.budget_wait = claimed.wait
        deliveries = claimed.posts
        if claimed.others:
            try:
                async with self._sessions() as session:
                    rows = await reserved_messages(session, claimed.others)
            except BaseException:  # taken, not read: given back at the next write
                self.stranded += [d.id for d in deliveries] + claimed.others
                raise
            deliveries += [message_delivery(row, claimed.order) for row in rows]
            deliveries.sort(key=lambda d: claimed.order[d.id])
        return deliveries

    async def close(self) -> None:
        """Give back the connection the direct statements hold (the sender stops)."""
        if self.direct is not None:
            await self.direct.close()

    def _direct(self) -> DirectClaims:
        if self.direct is None:
            raise RuntimeError("no direct path (PostgreSQL only)")
        return self.direct

    def _refused(self) -> Exception:
        if self.lease is None:
            raise RuntimeError("a statement without a fence found its fence gone")
        return self.lease.refused()

    async def _record_with(
        self, call: Callable[[list[tuple[int, Sent]], Term | None], Awaitable[T]]
    ) -> T:
        """``call`` records the plain sends waiting (``direct_ready``) with its own work;
        if it fails, they wait for the next write, as with ``write``."""
        term = self.lease.term() if self.lease is not None else None
        taken, self.pending = self.pending, []
        sent = [(d.id, o) for d, o in taken if isinstance(o, Sent)]
        try:
            result = await call(sent, term)
        except BaseException:
            self.pending[:0] = taken
            raise
        await self._notify([(d, o, SENT) for d, o in taken])
        return result

    async def _apply(
        self, session: AsyncSession, outcomes: list[tuple[Delivery, Outcome]]
    ) -> list[tuple[Delivery, Outcome, Applied]]:
        if not outcomes:
            return []
        now = self._clock.now()
        sent = [(d.id, o) for d, o in outcomes if isinstance(o, Sent)]
        await record_sent(session, sent, now)
        # A breaking post's pin is queued with its outcome: paced like any request.
        pins = [
            (d.id, d.chat_pk)
            for d, o in outcomes
            if d.pin and isinstance(o, Sent) and o.message_id is not None
        ]
        await enqueue_pins(session, pins, now)
        applied: list[tuple[Delivery, Outcome, Applied]] = []
        for delivery, outcome in outcomes:
            if isinstance(outcome, Sent):
                applied.append((delivery, outcome, SENT))
            else:
                result = await record_outcome(session, delivery, outcome, now, random.random())
                applied.append((delivery, outcome, result))
        return applied

    async def _notify(self, applied: list[tuple[Delivery, Outcome, Applied]]) -> None:
        """Counters (aggregated per flush, one metric update per state and kind) and hooks."""
        if not applied:
            return
        tally: Counter[tuple[str, str]] = Counter()
        dropped: Counter[str] = Counter()
        for delivery, outcome, result in applied:
            tally[(result.state, delivery.chat_kind)] += 1
            if result.dropped:
                dropped[delivery.chat_kind] += result.dropped
            if self._on_outcome is not None:
                await self._on_outcome(delivery, outcome, result)
        for (state, kind), count in tally.items():
            self._stats.by_state[state] = self._stats.by_state.get(state, 0) + count
            self._metrics.outcome(state, kind, count=count)
        for kind, count in dropped.items():
            self._metrics.outcome("dropped", kind, count=count)

    async def finish(self) -> None:
        """Record the last outcomes before the sender stops. A database that dropped its
        connections is given a few seconds to come back: an outcome not recorded leaves
        its row in flight, and the next start must count it unknown."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + _FINAL_WRITES_WITHIN
        pause = 0.2
        while (self.pending or self.stranded) and loop.time() < give_up_at:
            try:
                await self.write(_nothing)
            except Exception as exc:
                if loop.time() + pause > give_up_at:
                    # Left in flight: the next start marks them unknown, never re-sent.
                    log_failure(log, exc, "could not record %d outcomes", len(self.pending))
                    return
                await asyncio.sleep(pause)
                pause = min(2 * pause, 2.0)
