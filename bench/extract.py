"""Extraction benchmark: realistic article pages through the worker pool, and the event
loop's lag while they are read.

Run from the repository root::

    .venv/bin/python bench/extract.py                  # 400 pages, 3 runs
    .venv/bin/python bench/extract.py --pages 200 --runs 5

Pages are WordPress article pages as a news site serves them (``bench/wordpress_pages.py``:
Twenty Twenty-One markup with menus, related posts, comments, widgets; 60–100 KB).
Steps, each run ``--runs`` times (the machine is shared: min and median are printed):

1. **cost per page**, one process, one thread: the old reading (trafilatura with its
   metadata search, in the bot's process) and the new one (text, language links and
   image only) — CPU ms per page;
2. **throughput**: every page read in the pool (one worker per core) and summarized, as
   polls of 20 new articles each do (pages in the pool, then the poll's summaries in a
   thread of the bot's process), all polls at once — articles per second of wall time;
   target >= 50/s on 2 cores. On a shared machine the wall rate is the share the others
   leave, so the CPU the workers and this process spent is read from ``/proc`` too:
   pages x cores / CPU seconds is the rate the cores sustain when they are free;
3. **event-loop lag** during a burst of 200 pages: a task that sleeps 10 ms at a time on
   the loop records how late it wakes — the worst and the 99th percentile, with the pool
   and, for comparison, with the old threads and with an idle loop (what the machine's
   other load alone causes); target < 50 ms with the pool.

The last line is the figures as one JSON object (``extract_per_s``, ``loop_lag_ms``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from wordpress_pages import wordpress_page  # noqa: E402

from bot.text.summarize import summarize  # noqa: E402
from scheduler.extract import extract_page  # noqa: E402
from scheduler.extract_pool import (  # noqa: E402
    ExtractionPool,
    PageRead,
    cores,
    extraction_pool,
    read_article,
    read_page,
)
from scheduler.translations import page_alternates  # noqa: E402

HEADERS = {"Content-Type": "text/html; charset=UTF-8"}
TICK = 0.01
BURST = 200
#: New articles per feed poll (the default feed window).
FEED_ITEMS = 20
#: Seconds of an idle loop measured for comparison: the lag the machine's other load causes.
IDLE = 3.0


def old_read(html: str, url: str) -> PageRead:
    """What a poll did before: trafilatura with metadata, then the language links."""
    page = extract_page(html, url)
    return PageRead(page.text, page_alternates(html, url), page.image)


def _summary(read: PageRead, url: str) -> str:
    text = summarize("Story begins with a few words […]", read.text, "en", 600, "Story")
    if not text:
        raise SystemExit(f"empty summary for {url}")
    return text


def cost_per_page(pages: list[tuple[str, bytes]], read: Callable[[str, str], PageRead]) -> float:
    """CPU milliseconds per page, this thread only."""
    started = time.process_time()
    for url, body in pages:
        read(body.decode(), url)
    return (time.process_time() - started) * 1000 / len(pages)


async def _with_lag(work: Awaitable[object]) -> tuple[float, list[float]]:
    """Run ``work``; meanwhile record how late a 10 ms sleep on the loop wakes up."""
    lags: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - started - TICK)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await work
    wall = time.perf_counter() - started
    done = True
    await task
    return wall, lags


async def _poll(
    pages: list[tuple[str, bytes]], read: Callable[[str, bytes], Awaitable[PageRead]]
) -> None:
    """One feed's fresh articles, as a poll handles them: every page read, then the
    summaries in one thread (``scheduler.ingest`` prepares a poll's articles so)."""
    reads = await asyncio.gather(*(read(url, body) for url, body in pages))

    def summaries() -> None:
        for read_, (url, _) in zip(reads, pages, strict=True):
            _summary(read_, url)

    await asyncio.to_thread(summaries)


async def _in_pool(url: str, body: bytes) -> PageRead:
    return await read_article(body, HEADERS, url)


async def _in_thread(url: str, body: bytes) -> PageRead:
    return await asyncio.to_thread(old_read, body.decode(), url)


async def _burst(
    pages: list[tuple[str, bytes]], read: Callable[[str, bytes], Awaitable[PageRead]]
) -> None:
    """Every page, as polls of ``FEED_ITEMS`` new articles each running at once."""
    feeds = [pages[k : k + FEED_ITEMS] for k in range(0, len(pages), FEED_ITEMS)]
    await asyncio.gather(*(_poll(feed, read) for feed in feeds))


async def _worker_pids(pool: ExtractionPool) -> list[int]:
    """The pool's worker processes (each answers with its pid until all have)."""
    found: set[int] = set()
    while len(found) < pool.workers:
        found.update(await asyncio.gather(*(pool.run(_pid, default=0) for _ in range(8))))
    return sorted(found - {0})


def _pid() -> int:
    return os.getpid()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (``/proc``; Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _lag_ms(lags: list[float]) -> tuple[float, float]:
    ordered = sorted(lags) or [0.0]
    return ordered[-1] * 1000, ordered[int(len(ordered) * 0.99)] * 1000


async def measure(pages: list[tuple[str, bytes]], runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {
        "rate": [], "lag_max": [], "lag_p99": [], "old_lag_max": [], "old_lag_p99": [],
        "idle_lag_max": [], "idle_lag_p99": [], "capacity": [],
    }  # fmt: skip
    burst = pages[:BURST]
    async with extraction_pool(cores(), warm=True) as pool:
        workers = await _worker_pids(pool)
        for _ in range(runs):
            _, lags = await _with_lag(asyncio.sleep(IDLE))
            worst, p99 = _lag_ms(lags)
            figures["idle_lag_max"].append(worst)
            figures["idle_lag_p99"].append(p99)
            cpu = _cpu_seconds(workers) + time.process_time()
            wall, _lags = await _with_lag(_burst(pages, _in_pool))
            cpu = _cpu_seconds(workers) + time.process_time() - cpu
            figures["rate"].append(len(pages) / wall)
            figures["capacity"].append(len(pages) * cores() / cpu)
            _, lags = await _with_lag(_burst(burst, _in_pool))
            worst, p99 = _lag_ms(lags)
            figures["lag_max"].append(worst)
            figures["lag_p99"].append(p99)
    for _ in range(runs):
        _, lags = await _with_lag(_burst(burst, _in_thread))
        worst, p99 = _lag_ms(lags)
        figures["old_lag_max"].append(worst)
        figures["old_lag_p99"].append(p99)
    return figures


def _span(values: list[float], unit: str, digits: int = 0) -> str:
    return (
        f"min {min(values):.{digits}f}{unit}, median {statistics.median(values):.{digits}f}{unit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pages = [
        (f"https://caucasus-wire.example/2026/11/26/story-{n}/", wordpress_page(n).encode())
        for n in range(args.pages)
    ]
    sizes = sorted(len(body) / 1024 for _, body in pages)
    print(
        f"{len(pages)} WordPress article pages, {sizes[0]:.0f}–{sizes[-1]:.0f} KB "
        f"(median {statistics.median(sizes):.0f} KB); {cores()} cores, {args.runs} runs"
    )
    sample = pages[:60]
    old = [cost_per_page(sample, old_read) for _ in range(args.runs)]
    new = [cost_per_page(sample, read_page) for _ in range(args.runs)]
    print(f"cost per page, one thread: before (with metadata) {_span(old, ' ms', 1)}")
    print(f"                           now (text, links, image) {_span(new, ' ms', 1)}")
    figures = asyncio.run(measure(pages, args.runs))
    rate, worst = figures["rate"], figures["lag_max"]
    print(
        f"read in the pool ({cores()} workers) + summarized: {_span(rate, '/s')} "
        f"(target >= 50/s: {'met' if statistics.median(rate) >= 50 else 'MISSED'})"
    )
    print(
        f"  CPU capacity (pages x cores / CPU seconds of workers and this process): "
        f"{_span(figures['capacity'], '/s')} — what {cores()} free cores sustain"
    )
    print(
        f"event-loop lag, burst of {BURST}, pool: worst {_span(worst, ' ms', 1)}; "
        f"p99 {_span(figures['lag_p99'], ' ms', 1)} "
        f"(target < 50 ms: {'met' if statistics.median(worst) < 50 else 'MISSED'})"
    )
    print(
        f"event-loop lag, idle loop ({IDLE:.0f} s, the machine's own load): worst "
        f"{_span(figures['idle_lag_max'], ' ms', 1)}; "
        f"p99 {_span(figures['idle_lag_p99'], ' ms', 1)}"
    )
    print(
        f"event-loop lag, burst of {BURST}, old threads: worst "
        f"{_span(figures['old_lag_max'], ' ms', 1)}; p99 {_span(figures['old_lag_p99'], ' ms', 1)}"
    )
    result = {
        "extract_per_s": round(statistics.median(rate), 1),
        "extract_capacity_per_s": round(statistics.median(figures["capacity"]), 1),
        "loop_lag_ms": round(statistics.median(worst), 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
