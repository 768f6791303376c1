"""Pacing rules, checked on a simulated clock (no sleeping)."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.pacing import Pacer


def simulate(
    pacer: Pacer, chats: list[tuple[str, str]], duration: float
) -> list[tuple[float, str]]:
    """Send to ``chats`` round-robin as fast as the pacer allows; return (time, chat) sends."""
    now, sent, i = 0.0, [], 0
    while now < duration:
        key, kind = chats[i % len(chats)]
        wait = max(pacer.global_delay(now), pacer.chat_ready_at(key, kind, now) - now)
        if wait > 0:
            now += wait
            continue
        pacer.commit(key, kind, now)
        sent.append((now, key))
        i += 1
    return sent


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize("rate", [30.0, 1000.0])
def test_global_rate_is_reached_and_never_exceeded(rate: float) -> None:
    pacer = Pacer(rate)
    chats = [(str(n), "private") for n in range(1, 5000)]
    sent = simulate(pacer, chats, 10.0)
    times = [t for t, _ in sent]
    achieved = len(sent) / 10.0
    assert achieved >= rate * 0.97
    # Any one-second window holds at most the rate plus the small burst allowance.
    assert max_in_window(times, 1.0) <= rate + max(1, rate * 0.05) + 1


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
    pacer.pause(5.0)
    assert pacer.global_delay(0.1) == pytest.approx(4.9)
    assert pacer.global_delay(5.0) == 0.0


def test_replies_take_from_the_broadcast_budget() -> None:
    pacer = Pacer(10)
    assert pacer.global_delay(0.0) == 0.0
    for _ in range(5):
        pacer.take_for_reply(0.0)
    # Five replies at t=0 push the next broadcast back by about five slots.
    assert pacer.global_delay(0.0) >= 0.4


def test_memory_of_chats_is_pruned() -> None:
    pacer = Pacer(1000)
    simulate(pacer, [(str(n), "private") for n in range(1, 100_000)], 20.0)
    # Only chats seen within the last second (plus one group window) are remembered.
    assert pacer.tracked_chats() <= 1100


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(0)


@pytest.mark.parametrize("rate", [30.0, 300.0, 1000.0])
def test_late_wake_ups_are_made_up_without_exceeding_the_rate(rate: float) -> None:
    """A busy event loop wakes up late (here up to 5 ms, sometimes 40 ms); the pacer
    catches up within its small slack, and no one-second window exceeds the rate."""
    rng = random.Random(7)
    pacer = Pacer(rate)
    now, times, i = 0.0, [], 0
    while now < 10.0:
        key = str(i)
        wait = max(pacer.global_delay(now), pacer.chat_ready_at(key, "private", now) - now)
        if wait > 0:
            late = 0.04 if rng.random() < 0.01 else rng.uniform(0, 0.005)
            now += wait + late
            continue
        pacer.commit(key, "private", now)
        times.append(now)
        i += 1
    assert max_in_window(times, 1.0) <= rate
    assert len(times) / 10.0 >= rate * 0.9
