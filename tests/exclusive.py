"""Runs whole-bot and timing tests alone when the suite runs on several workers.

Under pytest-xdist every test holds a shared lock and a test marked ``exclusive`` holds it
exclusively, so a test that measures answer times or starts the bot as a process never
shares the machine's two cores with a neighbour (its figures would then measure the
neighbour). A turnstile lock keeps it fair: once an exclusive test is waiting, workers take
no new shared turn until it has run. Without xdist (one process) nothing is locked.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def _turn(folder: Path, exclusive: bool) -> Generator[None, None, None]:
    """Holds the run's lock, shared or exclusive, for one test."""
    with open(folder / "turnstile", "a") as turnstile, open(folder / "machine", "a") as machine:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(machine, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(machine, fcntl.LOCK_UN)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests of the whole-bot folders, so a new file there needs no marker."""
    for item in items:
        if item.path.parent.name in EXCLUSIVE_FOLDERS:
            item.add_marker(MARKER)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    folder = _lock_dir()
    if folder is None:
        yield
        return
    with _turn(folder, exclusive=item.get_closest_marker(MARKER) is not None):
        yield
