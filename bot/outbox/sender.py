"""The sender loop: claim due outbox rows, pace them, publish them, record outcomes.

The loop owns timing and bookkeeping only; how a delivery becomes a Bot API
call is the ``Publisher``'s job (``bot.telegram.publisher``), so the loop runs the
same against Telegram, a fake, or the dry-run printer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.leadership import LeaseLost
from bot.metrics import DeliveryMetrics, shared_metrics
from bot.outbox.budget import SharedBudget
from bot.outbox.kinds import enqueue_pins
from bot.outbox.pacing import REQUEST_WRITTEN, Pacer, Stamp
from bot.outbox.queue import Applied, Delivery, Outcome, Retry, Sent
from bot.storage.delivery_claims import (
    claim_due,
    inflight_by_kind,
    mark_inflight,
    record_sent,
    recover_after_crash,
    release,
)
from bot.storage.delivery_outcomes import record_outcome
from bot.storage.failures import log_failure
from bot.storage.models import OutboxRow

log = logging.getLogger(__name__)

T = TypeVar("T")


class Publisher(Protocol):
    async def publish(self, delivery: Delivery) -> Outcome:
        """Send one delivery; never raises (every failure is an Outcome)."""
        ...


OutcomeListener = Callable[[Delivery, Outcome, Applied], Awaitable[None]]


class Lease(Protocol):
    """The right to send, on PostgreSQL (``bot.leadership.Leadership``)."""

    def holds(self) -> bool:
        """Still ours by the local clock (checked before every wave leaves)."""
        ...

    async def fence(self, session: AsyncSession) -> None:
        """First in a claiming transaction: raises ``LeaseLost`` unless still ours."""
        ...


@dataclass
class SenderStats:
    """Counters the metrics endpoint and the benchmark read."""

    by_state: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    published: int = 0

    def count(self, state: str) -> None:
        self.by_state[state] = self.by_state.get(state, 0) + 1


class Sender:
    """Claims due rows two bursts at a time and sends each burst as one *wave*.

    A batch is two bursts' worth of rows (``Pacer.burst``: 15 at 30/s, 50 at 1000/s). One
    transaction records the outcomes that came back since the last one, reserves the batch
    and marks its first wave in flight, when the pacer would let that burst go; the second
    wave is marked in flight by its own transaction just before it leaves. Database work
    and event-loop wake-ups are thus per burst, not per message (DESIGN.md "cost"); the
    few milliseconds of a transaction are made up by the pacer's bucket. Rows whose chat
    must wait (1/s private, 20/min groups) go out in a later wave or are given back with
    their time.

    The price is bounded and deliberate: a crash turns the wave that was leaving into
    ``unknown`` (at most ``wave_size`` rows per crash, 15 at 30/s, 50 at 1000/s, some of
    them perhaps never sent), never into a duplicate; the rest of the batch was only
    reserved and is sent after the restart.
    """

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
        budget: SharedBudget | None = None,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._pacer = pacer
        self._clock = clock
        # Two bursts per batch (a second at 30/s, 0.1 s at 1000/s): a channel post enqueued
        # during a big private fan-out waits for at most this batch (channels first).
        self._batch = batch_size or 2 * pacer.burst
        self._horizon = pacer.burst_period
        self.wave_size = pacer.burst
        self._max_in_flight = max_in_flight
        # Reserved rows wait in flight for the pacer at most this long (two burst periods,
        # a second at least); a longer wait (a 429's pause) gives them back instead.
        self._hold_at_most = max(_HOLD_AT_MOST, 2 * pacer.burst_period)
        self._sending = 0  # requests started whose answer has not come back
        self._slot_freed = asyncio.Event()
        self._idle_poll = idle_poll
        self._on_outcome = on_outcome
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self._expected = 1  # rows in the last batch: the size of the next burst, probably
        self._fired: set[int] = set()  # rows of the wave going out whose request started
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_outcomes: list[tuple[Delivery, Outcome]] = []
        self._stranded: list[int] = []  # reserved rows to give back at the next chance
        self._lease: Lease | None = None
        self._budget = budget  # the rate shared with other processes (PostgreSQL)
        self.stats = SenderStats()
        self.metrics = metrics or shared_metrics()

    def wake(self) -> None:
        """New rows were enqueued: stop idling."""
        self._wake.set()

    async def recover(self) -> None:
        """Rows left reserved by a stopped sender are queued again; rows it left in flight
        become ``unknown`` (and are counted as such in the metrics)."""

        async def recovery(session: AsyncSession) -> tuple[dict[str, int], int, int]:
            lost_by_kind = await inflight_by_kind(session)
            back, lost = await recover_after_crash(session, self._clock.now())
            return lost_by_kind, back, lost

        lost_by_kind, back, lost = await self._write(recovery, fenced=True)
        for kind, count in lost_by_kind.items():
            self.stats.by_state["unknown"] = self.stats.by_state.get("unknown", 0) + count
            self.metrics.outcome("unknown", kind, count=count)
        if back or lost:
            log.warning(
                "outbox recovery: %d reserved rows re-queued, %d in-flight marked unknown",
                back,
                lost,
            )

    async def run(self, stop: asyncio.Event, lease: Lease | None = None) -> None:
        """Send until ``stop`` is set; in-flight sends are finished and recorded.

        With a ``lease`` (leadership on PostgreSQL) nothing leaves once it no longer
        holds, and every claim and the recovery check its fence first: a sender cut off
        from the database and back cannot claim or recover rows its successor owns.
        Outcomes and rows given back are recorded even then (they are facts, and their
        statements touch only rows still in the state this sender left them in).
        """
        self._stop = stop
        self._lease = lease
        try:
            await self.recover()
            while not stop.is_set():
                try:
                    handled = await self.step()
                except LeaseLost:
                    log.error("sender stopped: this process no longer leads")
                    break
                except Exception as exc:  # the database hiccuped: log, wait, carry on
                    log_failure(log, exc, "sender step failed; retrying shortly")
                    handled = 0
                if handled == 0:
                    await self._idle(stop)
        except LeaseLost:
            log.error("sender stopped before its recovery: this process no longer leads")
        finally:
            await self._finish()
            self._lease = None

    async def drain(self, within: float = 300.0) -> None:
        """Send everything that is due now, then return (``poll --once``); a pause
        Telegram asked for (429) that outlasts ``within`` ends it (the rows keep their
        time and are sent by the next run)."""
        await self.recover()
        deadline = self._clock.monotonic() + within
        while (now := self._clock.monotonic()) < deadline:
            if self._pacer.global_delay(now, 1) > deadline - now:
                break
            if await self.step() == 0:
                await self._finish()
                if not await self._has_due_soon():
                    return
                await asyncio.sleep(0.2)
        await self._finish()

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

    def _stopping(self) -> bool:
        if self._lease is not None and not self._lease.holds():
            return True
        return self._stop is not None and self._stop.is_set()

    # ---- one batch ------------------------------------------------------------------

    async def step(self) -> int:
        """Claim a batch and send it wave by wave; returns how many rows it handled.

        One transaction records the outcomes that came back since the last one, reserves
        the batch (``claimed``) once the pacer would let its first burst go, and marks
        that first wave in flight; each later wave is marked in flight by its own
        transaction just before it leaves (with the answers that came back meanwhile).
        A crash thus finds at most one wave in flight, and the rest only reserved, to be
        sent by the next start (the pacer's bucket makes up the few milliseconds each
        transaction takes). Rows not sent (their chat must wait, or the sender is
        stopping) are given back at the end.
        """
        await self._until_burst_is_due(self._expected, ahead=_PREPARE_AHEAD)
        if self._stopping():
            return 0
        queue: deque[Delivery] = deque()
        later: dict[float, list[int]] = {}
        wave = await self._write(
            functools.partial(self._claim_first_wave, queue, later), fenced=True
        )
        marked = {d.id for d in wave}  # rows of this batch in flight
        claimed = len(wave) + len(queue) + sum(len(ids) for ids in later.values())
        self._expected = max(1, claimed)
        try:
            while not self._stopping():
                if wave and not await self._fire(wave, queue):
                    break  # a long pause or a stop: the rest goes back to the queue
                if not queue:
                    break
                busy = {d.chat_key for d in wave}  # empty: the rest waits for those chats
                wave = self._plan_wave(queue, later, busy)
                if wave:  # marked in flight just before the pacer lets it leave
                    await self._until_burst_is_due(len(wave), ahead=_PREPARE_AHEAD)
                    wave = await self._mark_wave(wave, queue, marked)
        finally:
            if later or queue:
                try:
                    await self._write(functools.partial(self._put_back, later, queue))
                except BaseException:
                    self._stranded += [d.id for d in queue]
                    self._stranded += [i for ids in later.values() for i in ids]
                    raise
        return claimed

    async def _claim_first_wave(
        self, queue: deque[Delivery], later: dict[float, list[int]], session: AsyncSession
    ) -> list[Delivery]:
        """Reserve a batch into ``queue`` and mark its first wave in flight (one transaction)."""
        now = self._clock.now()
        queue.extend(await claim_due(session, now, self._batch, state="claimed"))
        wave = self._plan_wave(queue, later, set())
        marked = await mark_inflight(session, [d.id for d in wave], now)
        return [d for d in wave if d.id in marked]

    async def _mark_wave(
        self, wave: list[Delivery], queue: deque[Delivery], marked: set[int]
    ) -> list[Delivery]:
        """The wave about to leave is marked in flight (rows of an earlier wave that did
        not leave are in flight already); rows dropped meanwhile (their chat is gone) are
        left out. If the transaction fails, the wave goes back to ``queue``."""
        fresh = [d.id for d in wave if d.id not in marked]

        async def mark(session: AsyncSession) -> set[int]:
            return await mark_inflight(session, fresh, self._clock.now())

        if self._stopping():
            queue.extendleft(reversed(wave))
            return []
        if fresh:
            try:
                marked |= await self._write(mark, fenced=True)
            except BaseException:
                queue.extendleft(reversed(wave))
                raise
        return [d for d in wave if d.id in marked]

    async def _until_burst_is_due(self, size: int, ahead: float = 0.0) -> None:
        """Wait until the pacer allows a burst of ``size`` within ``ahead`` seconds (or a
        stop). The transaction that marks a wave in flight runs in those seconds, so the
        wave leaves when the pacer allows it, not a transaction later: a burst that leaves
        late can only lose time, since the next one is counted from it."""
        while not self._stopping():
            delay = self._pacer.global_delay(self._clock.monotonic(), size) - ahead
            if delay <= 0:
                return
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when the sender is told to stop."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def _plan_wave(
        self, queue: deque[Delivery], later: dict[float, list[int]], busy: set[str]
    ) -> list[Delivery]:
        """Take the next ``wave_size`` deliveries whose chats are ready within the horizon.

        A chat appears once per wave and not in two waves in a row (``busy``: the chats of
        the wave going out now); rows for chats that must wait longer (1/s private,
        20/min groups) are set aside to be given back with their time.
        """
        now = self._clock.monotonic()
        wave: list[Delivery] = []
        chats: set[str] = set()
        again: list[Delivery] = []
        while queue and len(wave) < self.wave_size:
            delivery = queue.popleft()
            if delivery.chat_key in chats or delivery.chat_key in busy:
                again.append(delivery)
                continue
            ready_at = self._pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now)
            if ready_at > now + self._horizon:
                later.setdefault(round(ready_at - now, 1) + 0.1, []).append(delivery.id)
                continue
            chats.add(delivery.chat_key)
            wave.append(delivery)
        queue.extendleft(reversed(again))
        return wave

    async def _fire(self, wave: list[Delivery], queue: deque[Delivery]) -> int:
        """Fire the wave as one burst as soon as the pacer allows it; a member whose chat
        must still wait (1/s private, 20/min groups) follows when its chat is ready.

        Returns how many went. Members not fired (the sender is stopping, Telegram asked
        for a long pause, or this was interrupted) go back to the front of ``queue``, to be
        given back rather than held in flight.
        """
        try:
            await self._fire_waiting(list(wave))
        finally:
            fired = len(self._fired)
            queue.extendleft(reversed([d for d in wave if d.id not in self._fired]))
            self._fired.clear()
        return fired

    async def _fire_waiting(self, waiting: list[Delivery]) -> None:
        while waiting and not self._stopping():
            now = self._clock.monotonic()
            ready: list[Delivery] = []
            held: list[Delivery] = []
            for delivery in waiting:
                chat_at = self._pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now)
                (ready if chat_at <= now else held).append(delivery)
            if not ready:
                await self._pause(min(self._chat_wait(d, now) for d in held))
                continue
            free = self._max_in_flight - self._sending
            if free <= 0:  # as many requests out as allowed: wait for an answer
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            want = min(len(ready), free)
            delay = self._pacer.global_delay(now, want)
            if delay > self._hold_at_most:
                return  # a 429's pause: the rows go back rather than wait in flight
            admitted = 0 if delay > 0 else self._pacer.admit(now, want)
            if admitted == 0:
                await self._pause(delay if delay > 0 else _RECHECK)
                continue
            go = ready[:admitted]
            if self._budget is not None:
                go, busy, wait = await self._shared_grant(go, now)
                if busy:  # a reply from another process reached these chats: later
                    ready = [d for d in ready if d.id not in busy]
                if not go:
                    waiting = ready + held
                    await self._pause(max(wait, _RECHECK))
                    continue
                now = self._clock.monotonic()
            # No await from admit() to the last commit: the pacer's count is exact.
            for delivery in go:
                self._pacer.commit(delivery.chat_key, delivery.chat_kind, now)
                self._sending += 1
                task = asyncio.create_task(self._send(delivery))
                self._fired.add(delivery.id)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            waiting = [d for d in ready if d.id not in self._fired] + held

    async def _shared_grant(
        self, batch: list[Delivery], now: float
    ) -> tuple[list[Delivery], set[int], float]:
        """Of the ``batch`` the local pacer allows, those the other processes leave room
        for (``bot.outbox.budget``), as the pacer still allows them after asking; the ids of rows
        whose chat a reply from elsewhere reached (noted, so they wait for their chat);
        and, when none may go, how long to wait."""
        assert self._budget is not None
        grant = await self._budget.take(
            [d.address for d in batch],
            [not Pacer.is_private(d.chat_kind) for d in batch],
            reply=False,
            own_used=lambda: self._pacer.sends_in_window(self._clock.monotonic()),
            used=[self._pacer.chat_sends(d.chat_key, now) for d in batch],
        )
        now = self._clock.monotonic()
        for i in grant.busy:
            self._pacer.note_chat(batch[i].chat_key, batch[i].chat_kind, now)
        busy = {batch[i].id for i in grant.busy}
        if not grant.granted or self._stopping():
            return [], busy, grant.wait
        allowed = self._pacer.admit(now, len(grant.granted))
        return [batch[i] for i in grant.granted[:allowed]], busy, 0.0

    def _chat_wait(self, delivery: Delivery, now: float) -> float:
        return self._pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now) - now

    async def _put_back(
        self, later: dict[float, list[int]], queue: deque[Delivery], session: AsyncSession
    ) -> None:
        """Reserved rows not sent in this batch go back to the queue (no attempt counted)."""
        now = self._clock.now()
        for wait, ids in later.items():
            await release(session, ids, now + timedelta(seconds=wait))
        if queue:
            await release(session, [d.id for d in queue], now)

    async def _send(self, delivery: Delivery) -> None:
        stamp = Stamp(self._pacer, self._clock.monotonic)
        REQUEST_WRITTEN.set(stamp)  # this task's own context: its request calls it
        try:
            outcome = await self._publisher.publish(delivery)
        except Exception as exc:  # a publisher bug must not lose the row's state
            log.exception(
                "publisher failed on outbox row %d",
                delivery.id,
                extra={"article_id": delivery.article_id, "chat": delivery.address},
            )
            outcome = Retry(error=f"internal error: {exc!r}")
        finally:
            stamp()  # no request written (a dry run, a failure): counted from its answer
            self._sending -= 1
            self._slot_freed.set()
        self.stats.published += 1
        if isinstance(outcome, Retry) and outcome.pause_all and outcome.after:
            self.stats.rate_limited += 1
            self.metrics.throttled(delivery.chat_kind)
            self._pacer.pause(self._clock.monotonic() + outcome.after)
            log.warning(
                "Telegram asked to wait %.0f s (429); sending paused",
                outcome.after,
                extra={"article_id": delivery.article_id, "chat": delivery.address},
            )
        self._pending_outcomes.append((delivery, outcome))

    # ---- recording outcomes -----------------------------------------------------------

    async def _write(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, fenced: bool = False
    ) -> T:
        """One transaction: the outcomes that came back so far, then ``work``.

        ``fenced`` work (claims, recovery) checks the lease first, if there is one.

        Reserved rows a failed transaction could not give back (``_stranded``) are given
        back first. If this one fails too, outcomes and stranded rows wait for the next:
        nothing reserved is forgotten while the process lives.
        """
        taken, self._pending_outcomes = self._pending_outcomes, []
        stranded, self._stranded = self._stranded, []
        try:
            async with self._sessions.begin() as session:
                if fenced and self._lease is not None:
                    await self._lease.fence(session)
                if stranded:
                    await release(session, stranded, self._clock.now())
                applied = await self._apply(session, taken)
                result = await work(session)
        except BaseException:
            self._pending_outcomes[:0] = taken
            self._stranded[:0] = stranded
            raise
        await self._notify(applied)
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
            self.stats.by_state[state] = self.stats.by_state.get(state, 0) + count
            self.metrics.outcome(state, kind, count=count)
        for kind, count in dropped.items():
            self.metrics.outcome("dropped", kind, count=count)

    async def _finish(self) -> None:
        """Record the last outcomes before the sender stops. A database that dropped its
        connections is given a few seconds to come back: an outcome not recorded leaves
        its row in flight, and the next start must count it unknown."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + _FINAL_WRITES_WITHIN
        pause = 0.2
        while (self._pending_outcomes or self._stranded) and loop.time() < give_up_at:
            try:
                await self._write(_nothing)
            except Exception as exc:
                if loop.time() + pause > give_up_at:
                    # Left in flight: the next start marks them unknown, never re-sent.
                    log_failure(
                        log, exc, "could not record %d outcomes", len(self._pending_outcomes)
                    )
                    return
                await asyncio.sleep(pause)
                pause = min(2 * pause, 2.0)


SENT = Applied("sent")
_FINAL_WRITES_WITHIN = 10.0  # seconds to record the last outcomes when the sender stops
_RECHECK = 0.005  # seconds; a reply took the room the pacer had promised: look again
_PREPARE_AHEAD = 0.03  # seconds before a burst may leave that its transaction starts
_HOLD_AT_MOST = 1.0  # seconds; see Sender._hold_at_most


async def _nothing(_session: AsyncSession) -> None:
    return None


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
