"""Pacing rules, checked on a simulated clock (no sleeping)."""

from __future__ import annotations

import heapq
import itertools
import random

import pytest

from bot.outbox.pacing import MAX_MARGIN, Pacer, default_burst


def simulate(
    pacer: Pacer, chats: list[tuple[str, str]], duration: float
) -> list[tuple[float, str]]:
    """Send to ``chats`` round-robin one at a time as fast as the pacer allows; every
    answer comes back at once. Returns (time, chat) sends."""
    now, sent, i = 0.0, [], 0
    while now < duration:
        key, kind = chats[i % len(chats)]
        wait = max(pacer.global_delay(now), pacer.chat_ready_at(key, kind, now) - now)
        if wait > 0:
            now += wait
            continue
        pacer.commit(key, kind, now)
        pacer.written(now)
        sent.append((now, key))
        i += 1
    return sent


class Broadcast:
    """The sender's way of using the pacer: wait for a whole burst, fire it, and let each
    answer land after a latency; Telegram stamps each request when it arrives, within the
    pacer's ``reach`` of its start (the way there), whatever the answer's latency."""

    def __init__(self, pacer: Pacer, latency: tuple[float, float], seed: int = 1) -> None:
        self.pacer = pacer
        self.rng = random.Random(seed)
        self.latency = latency
        self.now = 0.0
        self.fired: list[float] = []  # when each request left
        self.stamps: list[float] = []  # when Telegram counted it
        self.bursts: list[int] = []
        self._landings: list[float] = []
        self._serial = itertools.count()

    def _land_due(self) -> None:
        while self._landings and self._landings[0] <= self.now:
            heapq.heappop(self._landings)  # answers no longer move the window

    def advance(self, seconds: float) -> None:
        """Let time pass, answers landing on the way (as the event loop would)."""
        end = self.now + seconds
        while self._landings and self._landings[0] <= end:
            self.now = max(self.now, self._landings[0])
            self._land_due()
        self.now = end

    def run(self, duration: float, late_wake_ups: bool = False) -> None:
        while self.now < duration:
            self._land_due()
            want = self.pacer.burst
            delay = self.pacer.global_delay(self.now, want)
            if delay > 0:
                late = self.rng.uniform(0, 0.005) if late_wake_ups else 0.0
                self.advance(delay + late)
                continue
            count = self.pacer.admit(self.now, want)
            assert count > 0, "global_delay said go, admit said no"
            for n in range(count):
                self.pacer.commit(f"{next(self._serial)}", "private", self.now)
                self.pacer.written(self.now)  # its request went out at once
                answer = self.now + self.rng.uniform(*self.latency)
                heapq.heappush(self._landings, answer)
                self.fired.append(self.now)
                # The worst case for us: some requests are counted the moment they leave,
                # others only at the end of their way there.
                self.stamps.append(self.now + (self.pacer.reach if n % 2 else 0.0))
            self.bursts.append(count)


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end in range(len(ordered)):
        while ordered[end] - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize("rate", [30.0, 1000.0])
def test_bursts_reach_the_rate_and_no_second_of_telegrams_holds_more(rate: float) -> None:
    run = Broadcast(Pacer(rate), latency=(0.002, 0.015))
    run.run(20.0)
    achieved = len(run.fired) / 20.0
    assert achieved >= rate * 0.97
    assert max_in_window(run.stamps, 1.0) <= rate
    # Full bursts, apart from the first (the bucket starts with one message to spare).
    assert set(run.bursts[1:]) == {default_burst(rate)}


def test_a_burst_is_half_a_second_of_messages_at_most_fifty() -> None:
    assert (default_burst(30), default_burst(1000), default_burst(1)) == (15, 50, 1)
    assert Pacer(30).burst_period == pytest.approx(15 / (30 * 0.98))


@pytest.mark.parametrize(("rate", "latency"), [(30.0, (0.02, 0.08)), (30.0, (0.08, 0.12))])
def test_slow_answers_do_not_slow_the_pace_nor_break_the_limit(
    rate: float, latency: tuple[float, float]
) -> None:
    """Answers taking 50 ± 30 ms or 100 ± 20 ms: Telegram counted each request on its
    arrival, so the time its answer takes does not count against the rate."""
    run = Broadcast(Pacer(rate), latency=latency, seed=3)
    run.run(30.0)
    assert max_in_window(run.stamps, 1.0) <= rate
    assert len(run.fired) / 30.0 >= rate * 0.97


def test_a_send_keeps_its_place_until_a_second_and_the_reach_after_it_was_written() -> None:
    pacer = Pacer(30)
    for n in range(30):
        pacer.commit(str(n), "private", 0.0)
    # Tokens are back after a second, but no request has been written out yet.
    assert pacer.admit(2.0, 15) == 0
    assert 0 < pacer.global_delay(2.0, 15) < 0.1  # look again shortly
    for _ in range(30):
        pacer.written(2.5)  # written late (a busy loop): counted from then, answered or not
    assert pacer.admit(3.5, 15) == 0
    assert pacer.global_delay(3.5, 15) == pytest.approx(pacer.reach, abs=0.002)
    assert pacer.admit(3.5 + pacer.reach + 0.002, 15) == 15


@pytest.mark.parametrize("rate", [30.0, 300.0, 1000.0])
def test_late_wake_ups_are_made_up_without_exceeding_the_rate(rate: float) -> None:
    """A busy event loop wakes up a few ms late; the bucket's spare message makes up for
    it, and no one-second window exceeds the rate."""
    run = Broadcast(Pacer(rate), latency=(0.001, 0.005), seed=7)
    run.run(10.0, late_wake_ups=True)
    assert max_in_window(run.stamps, 1.0) <= rate
    assert len(run.fired) / 10.0 >= rate * 0.95


def test_private_chat_gets_at_most_one_message_per_second() -> None:
    pacer = Pacer(30)
    sent = simulate(pacer, [("42", "private")], 5.0)
    times = [t for t, _ in sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= 1.0 - 1e-9


def test_group_gets_at_most_twenty_per_minute() -> None:
    pacer = Pacer(30)
    sent = simulate(pacer, [("-100", "channel")], 180.0)
    times = [t for t, _ in sent]
    assert max_in_window(times, 60.0) == 20
    assert len(sent) >= 59  # and it does use its allowance


def test_retry_after_pauses_everything() -> None:
    pacer = Pacer(30)
    pacer.commit("1", "private", 0.0)
    pacer.written(0.0)
    pacer.pause(5.0)
    assert pacer.global_delay(0.1) == pytest.approx(4.9)
    assert pacer.admit(0.1, 1) == 0
    assert pacer.reply_delay(0.1) == pytest.approx(4.9)
    assert pacer.global_delay(5.0) == 0.0


def test_replies_take_from_the_broadcast_budget() -> None:
    pacer = Pacer(10)  # bursts of 5, refilled at 9.8/s
    assert pacer.global_delay(0.0, 5) == 0.0
    for _ in range(5):
        pacer.take_for_reply(0.0)
        pacer.written(0.0)
    # Five replies at t=0 used the burst the broadcast was about to send.
    assert pacer.admit(0.0, 5) == 1  # the one message the bucket keeps to spare
    assert pacer.global_delay(0.0, 5) == pytest.approx(4 / 9.8, abs=1e-4)


def test_a_reply_waits_only_for_room_and_broadcasts_leave_it_that_room() -> None:
    pacer = Pacer(30)
    for start in (0.0, 0.6):  # two bursts: the window is full
        for n in range(15):
            pacer.commit(f"{start}-{n}", "private", start)
            pacer.written(start)
    # The first burst ages out 1 s + reach after it started.
    assert pacer.reply_delay(0.7) == pytest.approx(0.3 + pacer.reach, abs=0.01)
    pacer.reply_waiting(True)
    # At 1.1 the first burst has aged out and tokens are back, but one place is the reply's.
    assert pacer.admit(1.1, 15) == 14
    assert pacer.reply_delay(1.1) == 0.0
    pacer.reply_waiting(False)
    pacer.take_for_reply(1.1)
    assert pacer.admit(1.1, 15) == 14


def test_memory_of_chats_is_pruned() -> None:
    pacer = Pacer(1000)
    simulate(pacer, [(str(n), "private") for n in range(1, 100_000)], 20.0)
    # Only chats seen within the last second (plus one group window) are remembered.
    assert pacer.tracked_chats() <= 1100


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(0)


class GatedBroadcast(Broadcast):
    """The sender's way since bursts are gated: a burst goes once its places open within
    ``lead``; its requests are written one after the other (``spread`` seconds apart, a
    loaded machine), each no earlier than its gate."""

    def __init__(self, pacer: Pacer, lead: float, spread: tuple[float, float], seed: int) -> None:
        super().__init__(pacer, latency=(0.02, 0.08), seed=seed)
        self.lead = lead
        self.spread = spread
        self.late_writes = 0

    def run(self, duration: float, late_wake_ups: bool = False) -> None:
        while self.now < duration:
            delay = self.pacer.global_delay(self.now, self.pacer.burst, lead=self.lead)
            if delay > 0:
                self.advance(delay + self.rng.uniform(0, 0.005))
                continue
            count = self.pacer.admit(self.now, self.pacer.burst, lead=self.lead)
            assert count > 0, "global_delay said go, admit said no"
            gates = self.pacer.gates(self.now, count)
            assert gates == sorted(gates) and gates[-1] <= self.now + self.lead + 0.002
            at = self.now
            for n, gate in enumerate(gates):
                self.pacer.commit(f"{next(self._serial)}", "private", self.now)
                at = max(at + self.rng.uniform(*self.spread), gate)
                self.fired.append(at)
                self.stamps.append(at + (self.pacer.reach if n % 2 else 0.0))
            for written in self.fired[-count:]:
                self.pacer.written(written)
            self.advance(at - self.now)
            self.bursts.append(count)


@pytest.mark.parametrize(
    ("spread", "share"), [((0.0005, 0.0015), 0.97), ((0.002, 0.008), 0.95)], ids=["quiet", "loaded"]
)
def test_gated_bursts_keep_the_window_whatever_the_time_between_writes(
    spread: tuple[float, float], share: float
) -> None:
    """Written a millisecond apart (quiet) or five (loaded), each request takes the place
    of the one written as long before: no second of Telegram's holds more than the rate,
    and the pace no longer pays for the time a burst takes to be written out."""
    run = GatedBroadcast(Pacer(30), lead=0.05, spread=spread, seed=5)
    run.run(30.0)
    assert max_in_window(run.stamps, 1.0) <= 30
    assert len(run.fired) / 30.0 >= 30 * share


def test_a_late_wake_up_keeps_places_longer_for_a_while() -> None:
    """The sender woke 30 ms late (a loaded machine): requests may also be counted later,
    so every place lasts 30 ms longer; the margin fades as wake-ups are on time again."""
    pacer = Pacer(30)
    for n in range(30):
        pacer.commit(str(n), "private", 0.0)
        pacer.written(0.0)
    assert pacer.global_delay(0.5, 15) == pytest.approx(0.5 + pacer.reach, abs=0.002)
    pacer.late(0.03)
    assert pacer.global_delay(0.5, 15) == pytest.approx(0.53 + pacer.reach, abs=0.002)
    pacer.late(5.0)  # a long stall widens it by MAX_MARGIN at most
    assert pacer.margin == MAX_MARGIN
    for _ in range(30):
        pacer.late(0.0)
    assert pacer.margin < 0.003


def test_gates_let_each_request_take_the_place_of_one_written_a_second_before() -> None:
    pacer = Pacer(30)
    for n in range(30):  # the window is full, its requests written 4 ms apart
        pacer.commit(str(n), "private", 0.0)
        pacer.written(n * 0.004)
    edge = 1.0 + pacer.reach
    assert pacer.admit(edge, 15) == 0
    assert pacer.admit(edge, 15, lead=0.06) == 15
    gates = pacer.gates(edge, 15)
    assert gates == pytest.approx([edge + n * 0.004 for n in range(15)], abs=0.002)
