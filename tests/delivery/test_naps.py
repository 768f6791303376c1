"""The sender's sleeps: a stop cuts them short, and nothing of them is left behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.outbox.naps import nap


async def test_a_nap_lasts_its_time_when_nothing_stops_it() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    started = loop.time()
    await asyncio.wait_for(nap(0.05, never), 5)
    assert loop.time() - started >= 0.05
    assert not never.done()


async def test_a_stop_wakes_a_long_nap() -> None:
    stop = asyncio.Event()
    stopped = asyncio.ensure_future(stop.wait())
    napping = asyncio.ensure_future(nap(3600, stopped))
    await asyncio.sleep(0.01)
    assert not napping.done()
    stop.set()
    await asyncio.wait_for(napping, 5)


async def test_a_nap_after_the_stop_returns_at_once() -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    await asyncio.wait_for(nap(3600, done), 1)


class CountingFuture(asyncio.Future[None]):
    """A stop future that counts the callbacks added to it and removed from it."""

    def __init__(self) -> None:
        super().__init__()
        self.added = self.removed = 0

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        self.added += 1
        super().add_done_callback(fn, context=context)

    def remove_done_callback(self, fn: Any) -> int:
        removed = super().remove_done_callback(fn)
        self.removed += removed
        return removed


async def test_a_nap_leaves_no_callback_on_the_stop_whether_cancelled_or_not() -> None:
    stopped = CountingFuture()
    napping = asyncio.ensure_future(nap(3600, stopped))
    await asyncio.sleep(0.01)
    napping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await napping
    for _ in range(3):
        await nap(0.001, stopped)
    assert stopped.added == 4
    assert stopped.removed == 4
