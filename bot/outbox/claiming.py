"""How the sender reserves a batch and marks each wave in flight.

Through the ledger's transactions (``Ledger.write``): a batch of two waves is reserved
and each wave marked in flight just before it leaves. Or on PostgreSQL, when the outcomes
waiting to be recorded are plain sends, through its one-statement path: each wave's rows
are taken straight into flight (``Ledger.claim_direct``), so a row is written twice on its
way instead of three times, and only a batch reserved by a transaction has waves to mark.
Either way rows not sent yet stay in the sender's queue, to be sent in a later wave or
given back (``bot.outbox.sender``), and a crash finds at most one wave in flight.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.outbox.ledger import Ledger
from bot.outbox.queue import Delivery
from bot.storage.delivery_claims import claim_due, mark_inflight
from bot.storage.send_budget import GrantAsk

Plan = Callable[[], list[Delivery]]  # the next wave from the queue (``plan_wave``)


class WaveClaims:
    """The sender's reservations and wave marks, on whichever path the ledger allows."""

    def __init__(
        self, ledger: Ledger, clock: Clock, stopping: Callable[[], bool], wave_size: int
    ) -> None:
        self._ledger = ledger
        self._wave = wave_size
        self._clock = clock
        self._stopping = stopping

    async def first_wave(
        self,
        batch: int,
        queue: deque[Delivery],
        later: dict[float, list[int]],
        marked: set[int],
        plan: Plan,
        ask: GrantAsk | None = None,
    ) -> tuple[list[Delivery], bool]:
        """Reserve ``batch`` rows into ``queue`` and mark its first wave in flight (one
        transaction); or on PostgreSQL, when the outcomes to record allow it, take one
        wave's worth straight into flight (one statement), asking the shared budget's
        grant for it there with ``ask``. Rows reserved and not sent yet stay in ``queue``.
        Returns the wave and whether all its rows were granted by the budget already."""
        self._ledger.budget_wait = 0.0
        if not self._ledger.direct_ready():
            try:
                wave = await self._ledger.write(
                    functools.partial(self._reserve_and_mark, batch, queue, plan), fenced=True
                )
            except BaseException:  # rolled back: nothing of it is reserved
                queue.clear()
                later.clear()
                raise
            marked.update(d.id for d in wave)
            return wave, False
        # One wave's worth, straight into flight: rows the wave leaves out wait in the
        # queue in flight and are given back with the rest if they do not go.
        limit = min(batch, self._wave)
        queue.extend(await self._ledger.claim_direct(self._clock.now(), limit, ask))
        marked.update(d.id for d in queue)
        return plan(), ask is not None

    async def _reserve_and_mark(
        self, batch: int, queue: deque[Delivery], plan: Plan, session: AsyncSession
    ) -> list[Delivery]:
        now = self._clock.now()
        queue.extend(await claim_due(session, now, batch, state="claimed"))
        wave = plan()
        marked = await mark_inflight(session, [d.id for d in wave], now)
        return [d for d in wave if d.id in marked]

    async def mark(
        self, wave: list[Delivery], queue: deque[Delivery], marked: set[int]
    ) -> list[Delivery]:
        """The wave about to leave is marked in flight (rows of an earlier wave that did
        not leave are in flight already); rows dropped meanwhile (their chat is gone) are
        left out. If the write fails, the wave goes back to ``queue``."""
        fresh = [d.id for d in wave if d.id not in marked]

        async def mark(session: AsyncSession) -> set[int]:
            return await mark_inflight(session, fresh, self._clock.now())

        if self._stopping():
            queue.extendleft(reversed(wave))
            return []
        if fresh:
            try:
                marked |= await self._ledger.write(mark, fenced=True)
            except BaseException:
                queue.extendleft(reversed(wave))
                raise
        return [d for d in wave if d.id in marked]
