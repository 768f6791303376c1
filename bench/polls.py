"""Thousands of feeds: the CPU of a 304 poll cycle, and feeds on their schedules.

Run from the repository root::

    .venv/bin/python bench/polls.py                              # 5 000 feeds, PostgreSQL
    .venv/bin/python bench/polls.py --db sqlite --feeds 1000 --seconds 30

A local site in a child process serves ``--feeds`` small RSS feeds with ETags (each
answers 304 to its own ETag). This process runs the bot's ingestor (fetcher, parser,
database) as ``newsbot run`` does:

1. prime: every feed polled once (items recorded, nothing posted);
2. **304 cycle**: every feed polled again, each answering 304: CPU of this process (all
   threads) plus the PostgreSQL server backends serving its connections (read from
   ``/proc``; see ``bench/pgcpu.py``), per feed;
3. **on their schedules**: the real scheduler (``scheduler.jobs.build_scheduler``) with
   every feed at ``--interval`` seconds for ``--seconds``; every second the most overdue
   feed's lag is read (now minus the oldest ``next_poll_at``); the worst is printed.

Targets (issue 16, item 4): <= 1 ms CPU per feed for a 304 cycle (5 000 feeds <= 5 s),
and the feeds do not fall behind (the most overdue <= 5 s behind its time).
The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from benchdb import drop_schema, fresh_database  # noqa: E402
from pgcpu import backend_cpu, spent, track_backends  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.alerts import LogAlerts  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.storage.chats import sync_catalog_channels  # noqa: E402
from bot.storage.engine import create_engine, session_factory  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import FeedRow  # noqa: E402
from scheduler.fetch import Fetcher  # noqa: E402
from scheduler.ingest import Ingestor  # noqa: E402
from scheduler.jobs import build_scheduler  # noqa: E402
from tests.ingest.support import catalog_for  # noqa: E402

DEFAULT_POSTGRES = os.environ.get(
    "NEWSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


# --- the site (child process) ------------------------------------------------------------


def site_process(port_out: Any) -> None:
    asyncio.run(_serve(port_out))


async def _serve(port_out: Any) -> None:
    async def feed(request: web.Request) -> web.StreamResponse:
        n = request.match_info["n"]
        etag = f'"{n}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
            f"<link>http://127.0.0.1/</link><item><title>Story {n}</title>"
            f"<link>http://127.0.0.1/a/{n}/</link><guid>story-{n}</guid>"
            "<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>"
            "<description>Georgia: the council met.</description></item></channel></rss>"
        )
        headers = {"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}
        return web.Response(body=body.encode(), headers=headers)

    app = web.Application()
    app.router.add_get("/feed/{n}/", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_out.send(int(runner.addresses[0][1]))
    await asyncio.Event().wait()


# --- the measured side ---------------------------------------------------------------------


async def measure(args: argparse.Namespace, port: int, workdir: Path) -> dict[str, Any]:
    url, schema = await fresh_database(args.db, args.postgres_url, workdir)
    try:
        return await measure_in(args, port, url)
    finally:
        if schema:
            await drop_schema(args.postgres_url, schema)


async def measure_in(args: argparse.Namespace, port: int, url: str) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    feeds = [{"url": f"{base}/feed/{n}/", "interval": args.interval} for n in range(args.feeds)]
    catalog = catalog_for(feeds)
    engine = create_engine(url)
    backends = track_backends(engine)
    await upgrade(engine)
    sessions = session_factory(engine)
    clock = SystemClock()
    async with sessions.begin() as session:
        await sync_catalog_channels(session, catalog, clock.now())
    results: dict[str, Any] = {"db": args.db, "feeds": args.feeds, "interval": args.interval}
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(http)
        # The prime stores one article per feed: no article pages to read for it.
        ingestor = Ingestor(
            catalog, sessions, fetcher, clock, alerts=LogAlerts(), fetch_pages=False
        )
        prime = await ingestor.poll_all()
        expect(prime, {"new", "unchanged"}, "prime")
        per_cycle: list[float] = []
        for _ in range(args.cycles):
            results = {**results, **await cycle_304(ingestor, backends)}
            per_cycle.append(round(results["cpu_per_304_feed_ms"], 3))
        results["first_cycle_ms"] = per_cycle[0]
        results["cycles_ms"] = per_cycle
        results.update(await on_schedule(args, catalog, ingestor, sessions, backends))
    await engine.dispose()
    return results


async def cycle_304(ingestor: Ingestor, backends: set[int]) -> dict[str, float]:
    """Every feed polled once (forced), each answering 304: CPU here and in the server."""
    profile = os.environ.get("NEWSBOT_BENCH_PROFILE")  # a path: profile the cycle there
    profiler = cProfile.Profile(time.process_time) if profile else None
    server0, cpu0, wall0 = backend_cpu(backends), time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    reports = await ingestor.poll_all()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    server = spent(server0, backend_cpu(backends))
    expect(reports, {"not_modified"}, "304 cycle")
    n = len(reports)
    return {
        "cycle_wall_s": wall,
        "cycle_cpu_s": cpu,
        "cycle_server_cpu_s": server,
        "cpu_per_304_feed_ms": 1000 * (cpu + server) / n,
        "process_cpu_per_304_feed_ms": 1000 * cpu / n,
        "server_cpu_per_304_feed_ms": 1000 * server / n,
    }


async def on_schedule(
    args: argparse.Namespace,
    catalog: Any,
    ingestor: Ingestor,
    sessions: Any,
    backends: set[int],
) -> dict[str, float]:
    """The real scheduler for ``--seconds``; the most overdue feed's lag every second."""
    polled: list[str] = []
    real_poll = ingestor.poll

    async def counted(feed: Any, *, force: bool = False) -> Any:
        report = await real_poll(feed, force=force)
        polled.append(report.outcome)
        return report

    ingestor.poll = counted  # type: ignore[method-assign]
    scheduler = build_scheduler(catalog, ingestor, NoMostRead())  # type: ignore[arg-type]
    lags: list[float] = []
    server0, cpu0 = backend_cpu(backends), time.process_time()
    scheduler.start()
    try:
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            async with sessions() as session:
                oldest = await session.scalar(select(func.min(FeedRow.next_poll_at)))
            now = datetime.now(UTC).replace(tzinfo=None)
            lags.append(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    finally:
        scheduler.shutdown(wait=False)
        await ingestor.wait_idle()
    cpu, server = time.process_time() - cpu0, spent(server0, backend_cpu(backends))
    done = [o for o in polled if o == "not_modified"]
    return {
        "schedule_seconds": args.seconds,
        "schedule_polls": len(done),
        "schedule_skips": len(polled) - len(done),
        "max_lag_s": max(lags, default=0.0),
        "last_lag_s": lags[-1] if lags else 0.0,
        "schedule_cpu_s": cpu + server,
    }


class NoMostRead:
    """The catalog has no most-read source: its job has nothing to do."""

    async def refresh(self) -> None:
        return None


def expect(reports: list[Any], outcomes: set[str], step: str) -> None:
    bad = [r for r in reports if r.outcome not in outcomes]
    if bad:
        raise SystemExit(f"{step}: {len(bad)} unexpected outcomes, e.g. {bad[0]}")


def report(r: dict[str, Any]) -> None:
    per_feed = r["cpu_per_304_feed_ms"]
    print(
        f"{r['feeds']} feeds, {r['db']}, interval {r['interval']} s; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"304 cycle: wall {r['cycle_wall_s']:.2f} s, CPU {r['cycle_cpu_s']:.2f} s here + "
        f"{r['cycle_server_cpu_s']:.2f} s in the database server = {per_feed:.3f} ms per feed"
        f"   [{'ok' if per_feed <= 1.0 else 'MISSED'}: <= 1 ms]"
    )
    print(
        f"on their schedules for {r['schedule_seconds']:g} s: {r['schedule_polls']} polls "
        f"({r['schedule_skips']} skipped as not due), most overdue feed "
        f"{r['max_lag_s']:.2f} s behind (at the end {r['last_lag_s']:.2f} s)"
        f"   [{'ok' if r['max_lag_s'] <= 5.0 else 'MISSED'}: <= 5 s]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--interval", type=int, default=60, help="each feed's poll interval")
    parser.add_argument("--seconds", type=float, default=120.0, help="time on the schedules")
    parser.add_argument("--cycles", type=int, default=1, help="304 cycles (the last counts)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    receive, send = multiprocessing.Pipe(duplex=False)
    site = multiprocessing.Process(target=site_process, args=(send,), daemon=True)
    site.start()
    try:
        port = receive.recv()
        with tempfile.TemporaryDirectory() as tmp:
            results = asyncio.run(measure(args, port, Path(tmp)))
    finally:
        site.terminate()
        site.join(5)
    report(results)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
