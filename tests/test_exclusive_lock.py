"""The lock that keeps timing and whole-bot tests alone on a parallel run."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from tests.exclusive import _turn


def _hold(folder: Path, exclusive: bool, entered: threading.Event, leave: threading.Event) -> None:
    with _turn(folder, exclusive):
        entered.set()
        leave.wait(10)


def test_an_exclusive_turn_waits_for_shared_ones_and_blocks_new_ones(tmp_path: Path) -> None:
    shared_in, shared_out = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold, args=(tmp_path, False, shared_in, shared_out))
    first.start()
    assert shared_in.wait(5)

    alone_in, alone_out = threading.Event(), threading.Event()
    alone = threading.Thread(target=_hold, args=(tmp_path, True, alone_in, alone_out))
    alone.start()
    assert not alone_in.wait(0.3), "an exclusive turn began beside a shared one"

    # A new shared turn queues behind the waiting exclusive one (the turnstile).
    late_in, late_out = threading.Event(), threading.Event()
    late = threading.Thread(target=_hold, args=(tmp_path, False, late_in, late_out))
    late.start()
    assert not late_in.wait(0.3), "a shared turn overtook the waiting exclusive one"

    shared_out.set()
    assert alone_in.wait(5)
    assert not late_in.is_set(), "a shared turn began beside the exclusive one"
    alone_out.set()
    assert late_in.wait(5)
    late_out.set()
    for thread in (first, alone, late):
        thread.join(5)


def test_shared_turns_run_side_by_side(tmp_path: Path) -> None:
    events = [(threading.Event(), threading.Event()) for _ in range(2)]
    threads = [
        threading.Thread(target=_hold, args=(tmp_path, False, entered, leave))
        for entered, leave in events
    ]
    for thread in threads:
        thread.start()
    assert all(entered.wait(5) for entered, _ in events)
    for _, leave in events:
        leave.set()
    for thread in threads:
        thread.join(5)


@pytest.mark.exclusive
def test_an_exclusive_test_runs_with_the_collected_suite_frozen_out_of_the_collector() -> None:
    # What the worker had before the test (modules, the collected items) is frozen; a full
    # collection then walks only what the test itself makes.
    assert gc.get_freeze_count() > 0
