"""Jobs per key, one at a time; requests arriving meanwhile merge into one more run."""

from __future__ import annotations

import asyncio

import pytest

from bot.web.coalesce import Coalescer


async def test_a_failing_run_does_not_stop_the_merged_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = asyncio.Event()
    runs: list[str] = []

    async def work(value: str) -> None:
        runs.append(value)
        await gate.wait()
        if value == "first":
            raise RuntimeError("fetch failed")

    jobs: Coalescer[int, str] = Coalescer(work, lambda waiting, newer: waiting + "+" + newer)
    assert jobs.submit(1, "first") is True
    assert jobs.submit(1, "a") is False and jobs.submit(1, "b") is False
    assert jobs.submit(2, "other") is True
    await asyncio.sleep(0.01)
    gate.set()
    await jobs.drain(within=2)
    assert runs == ["first", "other", "a+b"]
    assert "fetch failed" in caplog.text
    assert jobs.submit(1, "later") is True  # the key is free again
    await jobs.drain(within=2)
    assert runs[-1] == "later"
