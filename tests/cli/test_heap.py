"""The start-up heap is frozen out of the collector's full passes (``bot.heap``)."""

from __future__ import annotations

import gc

from bot.heap import freeze_startup_heap


def test_objects_alive_at_start_up_leave_the_collectors_reach() -> None:
    survivor = [object() for _ in range(1000)]
    gc.unfreeze()
    try:
        before = gc.get_freeze_count()
        freeze_startup_heap()
        assert gc.get_freeze_count() >= before + len(survivor)
        # A full collection no longer walks them: what it counts is only what came later.
        assert not any(obj is survivor for obj in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()  # this test process goes on collecting as usual
