"""The sender loop: claim due outbox rows, pace them, publish them, record outcomes.

The loop owns timing and bookkeeping only; how a delivery becomes a Bot API
call is the ``Publisher``'s job (``bot.telegram.publisher``), so the loop runs the
same against Telegram, a fake, or the dry-run printer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.leadership import LeaseLost
from bot.metrics import DeliveryMetrics, shared_metrics
from bot.outbox.budget import SharedBudget
from bot.outbox.claiming import WaveClaims
from bot.outbox.grants import grant_ask, shared_grant
from bot.outbox.ledger import Lease, Ledger, OutcomeListener, SenderStats
from bot.outbox.naps import nap
from bot.outbox.pacing import REQUEST_WRITTEN, Pacer, Stamp
from bot.outbox.queue import Delivery, Outcome, Retry
from bot.outbox.waves import plan_wave
from bot.storage.delivery_claims import claim_probe
from bot.storage.direct_claims import direct_claims
from bot.storage.failures import log_failure

log = logging.getLogger(__name__)

T = TypeVar("T")


class Publisher(Protocol):
    async def publish(self, delivery: Delivery) -> Outcome:
        """Send one delivery; never raises (every failure is an Outcome)."""
        ...


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
        # A wave's transaction starts ahead (a late wave loses that time for good); a burst
        # goes once its first places are free, the rest up to _lead later (Pacer.gates).
        self._ahead = max(_PREPARE_AHEAD, min(_PREPARE_AT_MOST, pacer.burst_period / 2))
        self._lead = min(_GATE_LEAD, pacer.burst_period / 4)
        self._sending = 0  # requests started whose answer has not come back
        self._slot_freed = asyncio.Event()
        self._idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self._stopped: asyncio.Future[Any] | None = None  # done once ``_stop`` is set
        self._expected = 1  # rows in the last batch: the size of the next burst, probably
        self._fired: set[int] = set()  # rows of the wave going out whose request started
        self._granted_ahead: set[int] = set()  # rows the budget granted with their claim
        self._tasks: set[asyncio.Task[None]] = set()
        self._lease: Lease | None = None
        self._budget = budget  # the rate shared with other processes (PostgreSQL)
        self.stats = SenderStats()
        self.metrics = metrics or shared_metrics()
        self._ledger = Ledger(sessions, clock, self.stats, self.metrics, on_outcome)
        self._ledger.direct = direct_claims(sessions)
        self._claims = WaveClaims(self._ledger, clock, self._stopping, self.wave_size)

    def wake(self) -> None:
        """New rows were enqueued: stop idling."""
        self._wake.set()

    async def recover(self) -> None:
        """Rows left reserved by a stopped sender are queued again; rows it left in flight
        become ``unknown`` (``Ledger.recover``)."""
        await self._ledger.recover()

    async def run(self, stop: asyncio.Event, lease: Lease | None = None) -> None:
        """Send until ``stop`` is set; in-flight sends are finished and recorded.

        With a ``lease`` (leadership on PostgreSQL) nothing leaves once it no longer
        holds, and every claim and the recovery check its fence first: a sender cut off
        from the database and back cannot claim or recover rows its successor owns.
        Outcomes and rows given back are recorded even then (they are facts, and their
        statements touch only rows still in the state this sender left them in).
        """
        self._stop = stop
        self._stopped = asyncio.ensure_future(stop.wait())
        self._lease = self._ledger.lease = lease
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
            self._lease = self._ledger.lease = None
            stopped, self._stopped = self._stopped, None
            if stopped is not None:
                stopped.cancel()

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
        """Until rows are enqueued, a stop, the idle poll, or (when the shared budget had
        no room for the due rows) the wait the budget asked for."""
        timeout = self._idle_poll
        if (wait := self._ledger.budget_wait) > 0:
            timeout = min(timeout, max(wait, _RECHECK))
        self._wake.clear()
        waiter = asyncio.ensure_future(self._wake.wait())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
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
        On PostgreSQL, when the answers to record are plain sends, each wave is instead
        taken straight into flight by one statement on a connection the sender holds
        (``bot.outbox.claiming``).
        A crash thus finds at most one wave in flight, and the rest only reserved, to be
        sent by the next start (the pacer's bucket makes up the few milliseconds each
        transaction takes). Rows not sent (their chat must wait, or the sender is
        stopping) are given back at the end.
        """
        await self._until_burst_is_due(self._expected, ahead=self._ahead)
        if self._stopping():
            return 0
        queue: deque[Delivery] = deque()
        later: dict[float, list[int]] = {}
        marked: set[int] = set()  # rows of this batch in flight
        try:
            wave = await self._claim(queue, later, marked)
            claimed = len(wave) + len(queue) + sum(len(ids) for ids in later.values())
            self._expected = max(1, claimed)
            while not self._stopping():
                if wave and not await self._fire(wave, queue):
                    break  # a long pause or a stop: the rest goes back to the queue
                if not queue:
                    break
                busy = {d.chat_key for d in wave}  # empty: the rest waits for those chats
                wave = self._plan_wave(queue, later, busy)
                if wave:  # marked in flight just before the pacer lets it leave
                    await self._until_burst_is_due(len(wave), ahead=self._ahead)
                    wave = await self._mark_wave(wave, queue, marked)
        finally:
            if later or queue:
                try:
                    await self._ledger.write(functools.partial(self._ledger.put_back, later, queue))
                except BaseException:
                    self._ledger.stranded += [d.id for d in queue]
                    self._ledger.stranded += [i for ids in later.values() for i in ids]
                    raise
        return claimed

    async def _claim(
        self, queue: deque[Delivery], later: dict[float, list[int]], marked: set[int]
    ) -> list[Delivery]:
        plan = functools.partial(self._plan_wave, queue, later, set())
        now, size = self._clock.monotonic(), self._expected
        ask = grant_ask(self._budget, self._pacer, now, size, self._lead)
        wave, granted = await self._claims.first_wave(self._batch, queue, later, marked, plan, ask)
        self._granted_ahead = {d.id for d in wave} if granted else set()
        return wave

    async def _mark_wave(
        self, wave: list[Delivery], queue: deque[Delivery], marked: set[int]
    ) -> list[Delivery]:
        return await self._claims.mark(wave, queue, marked)

    async def _until_burst_is_due(self, size: int, ahead: float = 0.0) -> None:
        """Wait until the pacer allows a burst of ``size`` within ``ahead`` seconds (or a
        stop). The transaction that marks a wave in flight runs in those seconds, so the
        wave leaves when the pacer allows it, not a transaction later: a burst that leaves
        late can only lose time, since the next one is counted from it."""
        while not self._stopping():
            delay = self._pacer.global_delay(self._clock.monotonic(), size, lead=self._lead)
            delay -= ahead
            if delay <= 0:
                return
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """Sleep (a stop wakes it); the pacer learns how late it woke (``Pacer.late``)."""
        until = self._clock.monotonic() + seconds
        if self._stopped is None:
            await asyncio.sleep(seconds)
        else:
            await nap(seconds, self._stopped)
        self._pacer.late(self._clock.monotonic() - until)

    def _plan_wave(
        self, queue: deque[Delivery], later: dict[float, list[int]], busy: set[str]
    ) -> list[Delivery]:
        now = self._clock.monotonic()
        return plan_wave(self._pacer, now, self.wave_size, self._horizon, queue, later, busy)

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
            self._granted_ahead.clear()  # a row that did not go asks again when it goes
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
            delay = self._pacer.global_delay(now, want, lead=self._lead)
            if delay > self._hold_at_most:
                return  # a 429's pause: the rows go back rather than wait in flight
            admitted = 0 if delay > 0 else self._pacer.admit(now, want, lead=self._lead)
            if admitted == 0:
                await self._pause(delay if delay > 0 else _RECHECK)
                continue
            go = ready[:admitted]
            if self._budget is not None and not self._granted_ahead.issuperset(d.id for d in go):
                grant = (self._budget, self._pacer, self._clock.monotonic)
                go, busy, wait = await shared_grant(*grant, go, now, self._stopping, self._lead)
                if busy:  # a reply from another process reached these chats: later
                    ready = [d for d in ready if d.id not in busy]
                if not go:
                    waiting = ready + held
                    await self._pause(max(wait, _RECHECK))
                    continue
                now = self._clock.monotonic()
            # No await from admit() to the last commit: the pacer's count is exact.
            for delivery, gate in zip(go, self._pacer.gates(now, len(go)), strict=True):
                self._pacer.commit(delivery.chat_key, delivery.chat_kind, now)
                self._sending += 1
                task = asyncio.create_task(self._send(delivery, gate))
                self._fired.add(delivery.id)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            waiting = [d for d in ready if d.id not in self._fired] + held

    async def _finish(self) -> None:
        """Let the requests in flight come back, then record what is left (``Ledger``)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        try:
            await self._ledger.finish()
        finally:
            await self._ledger.close()

    def _chat_wait(self, delivery: Delivery, now: float) -> float:
        return self._pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now) - now

    async def _send(self, delivery: Delivery, gate: float) -> None:
        """Send one delivery once its place in the window is free (``gate``, monotonic)."""
        if (wait := gate - self._clock.monotonic()) > 0:
            await asyncio.sleep(wait)
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
        self._ledger.pending.append((delivery, outcome))


_RECHECK = 0.005  # seconds; a reply took the room the pacer had promised: look again
_PREPARE_AHEAD = 0.03  # seconds before a burst may leave that its transaction starts, at least
_PREPARE_AT_MOST = 0.25  # seconds, at most
_GATE_LEAD = 0.0  # seconds; see Sender._lead (0: off, see docs/benchmarks.md)
_HOLD_AT_MOST = 1.0  # seconds; see Sender._hold_at_most
