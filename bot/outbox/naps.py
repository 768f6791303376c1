"""The sender's short sleeps, which a stop cuts short.

The sender sleeps several times a second (until a burst may leave, until a chat may take
its next message). ``asyncio.wait_for(stop.wait(), seconds)`` built a task for each of
those sleeps, several times what the sleep itself costs; here a sleep is one future and
one timer, woken early by a future that completes when the sender is told to stop.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def nap(seconds: float, unless: asyncio.Future[Any]) -> None:
    """Sleep ``seconds``, or until ``unless`` is done (at once if it is already)."""
    if unless.done():
        return
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    timer = loop.call_later(seconds, wake)
    unless.add_done_callback(wake)
    try:
        await woken
    finally:
        timer.cancel()
        unless.remove_done_callback(wake)
