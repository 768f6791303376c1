"""Runs whole-bot and timing tests alone when the suite runs on several workers.

Under pytest-xdist every test holds a shared lock and a test marked ``exclusive`` holds it
exclusively, so a test that measures answer times or starts the bot as a process never
shares the machine's two cores with a neighbour (its figures would then measure the
neighbour). A turnstile lock keeps it fair: once an exclusive test is waiting, workers take
no new shared turn until it has run. Without xdist (one process) nothing is locked.

The exclusive tests are collected first, so they reach a worker together, and a worker
hands its exclusive lock straight on to its next exclusive test: they run back to back at
the start while the other workers wait once, instead of every exclusive test waiting for
every worker to finish its current test (the slowest of them) with the cores idle.

An exclusive test also runs with the worker's heap frozen (``bot.heap``, as ``newsbot run``
freezes its own after start-up). The worker's heap holds the whole collected suite: one
full collection of it took 160 ms here, a stall of the event loop that the bot or the fake
Bot API in the test's process would otherwise take for its own (a burst read late by the
fake is counted with the next one: a window over the limit the bot never sent).
"""

from __future__ import annotations

import fcntl
import gc
import os
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from bot.heap import freeze_startup_heap

MARKER = "exclusive"
# Every test in these folders starts the bot as processes or kills it: all run alone.
EXCLUSIVE_FOLDERS = {"crash", "multiprocess"}


def _lock_dir() -> Path | None:
    """The directory all workers of one run share, or None outside xdist."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run or not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    folder = Path(tempfile.gettempdir()) / f"newsbot-tests-{run}"
    folder.mkdir(exist_ok=True)
    return folder


def _take(folder: Path, exclusive: bool) -> IO[str]:
    """Takes the run's lock, shared or exclusive, through the turnstile."""
    machine = open(folder / "machine", "a")  # noqa: SIM115 (held past this function)
    with open(folder / "turnstile", "a") as turnstile:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(machine, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
    return machine


def _give_back(machine: IO[str]) -> None:
    fcntl.flock(machine, fcntl.LOCK_UN)
    machine.close()


@contextmanager
def _turn(folder: Path, exclusive: bool) -> Generator[None, None, None]:
    """Holds the run's lock, shared or exclusive, for one test."""
    machine = _take(folder, exclusive)
    try:
        yield
    finally:
        _give_back(machine)


def _is_exclusive(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker(MARKER) is not None


# The exclusive lock this worker keeps from one exclusive test to the next one it runs.
_kept: list[IO[str]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests of the whole-bot folders, so a new file there needs no marker, and
    puts every exclusive test first (a stable sort: each group keeps its order)."""
    for item in items:
        if item.path.parent.name in EXCLUSIVE_FOLDERS:
            item.add_marker(MARKER)
    items.sort(key=lambda item: item.get_closest_marker(MARKER) is None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """Holds the lock for one test; an exclusive test followed by another one on this worker
    hands its lock straight on, so the others do not wait for a turn in between."""
    folder = _lock_dir()
    if folder is None:
        yield
        return
    exclusive = _is_exclusive(item)
    if _kept and not exclusive:  # not the test announced as next: take turns again
        _give_back(_kept.pop())
    machine = _kept.pop() if _kept else _take(folder, exclusive)
    try:
        yield
    finally:
        if exclusive and _is_exclusive(nextitem):
            _kept.append(machine)
        else:
            _give_back(machine)


@pytest.fixture(autouse=True)
def frozen_heap_when_exclusive(request: pytest.FixtureRequest) -> Iterator[None]:
    """Freezes the worker's heap around an exclusive test (see the module's docstring)."""
    if request.node.get_closest_marker(MARKER) is None:
        yield
        return
    freeze_startup_heap()
    try:
        yield
    finally:
        gc.unfreeze()
