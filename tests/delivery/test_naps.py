"""The sender's sleeps: a stop cuts them short, and nothing of them is left behind."""

from __future__ import annotations

import asyncio

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


async def test_a_cancelled_nap_leaves_no_callback_on_the_stop() -> None:
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[None] = loop.create_future()
    napping = asyncio.ensure_future(nap(3600, stopped))
    await asyncio.sleep(0.01)
    napping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await napping
    for _ in range(3):  # naps that ended normally leave none either
        await nap(0.001, stopped)
    assert not getattr(stopped, "_callbacks", None)
