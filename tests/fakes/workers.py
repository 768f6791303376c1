"""Jobs that misbehave, for the extraction pool's tests (they run in its workers, which
import them by module name, so they live here and not in the test file)."""

from __future__ import annotations

import os
import signal
import time


def pid() -> int:
    return os.getpid()


def crash() -> int:
    """A worker that dies mid-page (as a segfault in a C extension would)."""
    os._exit(3)


def spin() -> int:
    """Pure Python that never ends (a pathological page in trafilatura's loops)."""
    count = 0
    while True:
        count += 1


def stuck() -> int:
    """Never ends and cannot be interrupted (a page stuck in C code)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(600)
    return 0


def nap(seconds: float) -> tuple[float, float]:
    """When this job ran, by the clock."""
    started = time.time()
    time.sleep(seconds)
    return started, time.time()
