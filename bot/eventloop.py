"""Which event loop the bot runs on: uvloop when it is installed, asyncio's own otherwise.

Most of the sender's CPU per message is the event loop and the socket calls under
aiohttp (docs/benchmarks.md, "Cost per message"); uvloop does the same work in C and
costs measurably less per request. It is an ordinary dependency, but not every platform
has a wheel of it, so its absence (or ``NEWSBOT_EVENT_LOOP=asyncio``, to rule it out
when a problem is being chased) falls back to the standard loop, which behaves the same.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

ENV_VAR = "NEWSBOT_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or ``None`` (asyncio's default) when it is missing or declined."""
    if os.environ.get(ENV_VAR, "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop ``loop_factory`` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def loop_name() -> str:
    """The running loop's module ("uvloop" or "asyncio"), for the start-up log and benches."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]
