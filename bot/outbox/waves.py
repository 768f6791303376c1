"""Which reserved deliveries leave in the next wave: pure, from the pacer's view of chats.

A wave is one burst (``Pacer.burst``). A chat appears once per wave and not in two waves in
a row; a chat that must wait longer than the horizon (1/s private, 20/min groups) is set
aside, to be given back with its time instead of held in flight.
"""

from __future__ import annotations

from collections import deque

from bot.outbox.pacing import Pacer
from bot.outbox.queue import Delivery


def plan_wave(
    pacer: Pacer,
    now: float,
    size: int,
    horizon: float,
    queue: deque[Delivery],
    later: dict[float, list[int]],
    busy: set[str],
) -> list[Delivery]:
    """Take the next ``size`` deliveries of ``queue`` whose chats are ready within
    ``horizon`` seconds of ``now`` (monotonic).

    ``busy`` holds the chats of the wave going out now; rows for chats that must wait
    longer go into ``later`` (seconds to wait -> row ids); the rest stay in ``queue``,
    in order.
    """
    wave: list[Delivery] = []
    chats: set[str] = set()
    again: list[Delivery] = []
    while queue and len(wave) < size:
        delivery = queue.popleft()
        if delivery.chat_key in chats or delivery.chat_key in busy:
            again.append(delivery)
            continue
        ready_at = pacer.chat_ready_at(delivery.chat_key, delivery.chat_kind, now)
        if ready_at > now + horizon:
            later.setdefault(round(ready_at - now, 1) + 0.1, []).append(delivery.id)
            continue
        chats.add(delivery.chat_key)
        wave.append(delivery)
    queue.extendleft(reversed(again))
    return wave
