"""Ingestion benchmark: a 304 polling cycle, and a cycle of fresh WordPress feeds.

Run from the repository root::

    .venv/bin/python bench/ingest.py                 # 500 feeds, 20 items each
    .venv/bin/python bench/ingest.py --feeds 100 --items 10

Two processes, so that each one's cost is its own: a local site (aiohttp, in a child
process) serves ``--feeds`` WordPress-shaped feeds with ETags and one full article page
per item (navigation, region label, lead, body, a "Most read" aside, a "Support us"
block); this process runs the real :class:`scheduler.ingest.Ingestor` (fetcher, parser,
SQLite database, two channels) and measures itself (``time.process_time`` counts all its
threads). Steps:

1. prime: every feed polled once (its items recorded, not pushed);
2. **304 cycle**: every feed polled again, each answering 304 — wall and CPU time;
3. the site publishes ``--items`` new posts per feed, with teaser descriptions only;
   **fresh cycle**: every feed polled, every new article's page fetched, extracted
   (trafilatura) and summarized, stored and enqueued — wall, CPU, articles/s;
4. **extract + summarize** alone on one core over the pages of step 3 — articles/s;
5. peak RSS of this process.

Targets (issue 5): 304 cycle < 5 s wall and < 2 s CPU; >= 50 articles/s through extract
+ summarize on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.alerts import LogAlerts  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.storage.chats import sync_catalog_channels  # noqa: E402
from bot.storage.engine import create_engine, session_factory  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.text.summarize import summarize  # noqa: E402
from scheduler.extract import extract_page  # noqa: E402
from scheduler.fetch import Fetcher  # noqa: E402
from scheduler.ingest import Ingestor  # noqa: E402
from tests.fakes.feedserver import wordpress_feed  # noqa: E402
from tests.ingest.support import article_page, catalog_for  # noqa: E402

REGIONS = ("Georgia", "Armenia")
SENTENCES = [
    "Officials confirmed the plan at a briefing on {day}, saying work would begin soon.",
    "The project, worth {n} million lari, was first announced two years ago.",
    "Residents of the district have long complained about the lack of transport links.",
    "Critics said the budget was too small, while supporters called it a breakthrough.",
    "Construction is expected to take {n} months, according to the city's estimates.",
    "The opposition asked for a public hearing before any contracts are signed.",
]


# --- the site (child process) ------------------------------------------------------------


def site_process(port_out: Any, feeds: int, items: int) -> None:
    """Serve the feeds and pages until terminated; ``POST /_publish`` adds new posts."""
    asyncio.run(_serve(port_out, feeds, items))


async def _serve(port_out: Any, feeds: int, items: int) -> None:
    state = {"round": 0}
    bodies: dict[int, bytes] = {}
    published = datetime.now(UTC) - timedelta(hours=3)

    def feed_body(n: int) -> bytes:
        round_ = state["round"]
        cached = bodies.get(n)
        if cached is not None:
            return cached
        posts = []
        # The newest post of the previous round stays in the window (no gap to report).
        for i in [*range(items), *([-1] if round_ else [])]:
            post_id = n * 1000 + round_ * 100 + i if i >= 0 else n * 1000 + (items - 1)
            region = REGIONS[(n + i) % 2]
            posts.append(
                {
                    "post_id": post_id,
                    "title": f"{region}: story {post_id} about the new transport plan",
                    "link": f"{site}/a/{post_id}/",
                    "description": f"Story {post_id} begins with a few words [&#8230;]",
                    "categories": [region],
                    "pubDate": published + timedelta(hours=3 * round_, minutes=i)
                    if i >= 0
                    else published + timedelta(minutes=items - 1),
                }
            )
        bodies[n] = wordpress_feed(posts, site=site)
        return bodies[n]

    async def feed(request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        etag = f'"{n}-{state["round"]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=feed_body(n),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def page(request: web.Request) -> web.StreamResponse:
        post_id = int(request.match_info["id"])
        return web.Response(body=article_html(post_id), content_type="text/html")

    async def publish(request: web.Request) -> web.StreamResponse:
        state["round"] += 1
        bodies.clear()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/feed/{n}/", feed)
    app.router.add_get("/a/{id}/", page)
    app.router.add_post("/_publish", publish)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = int(runner.addresses[0][1])
    site = f"http://127.0.0.1:{port}"
    port_out.send(port)
    await asyncio.Event().wait()


def article_html(post_id: int) -> bytes:
    region = REGIONS[post_id % 2]
    day = ("Monday", "Tuesday", "Wednesday")[post_id % 3]
    body = [
        " ".join(s.format(day=day, n=post_id % 97 + 3) for s in SENTENCES[k : k + 3])
        for k in range(0, len(SENTENCES), 2)
    ] * 3
    lead = (
        f"The city council approved transport plan number {post_id} on {day}, "
        "promising new bus lanes and a tram line within three years."
    )
    return article_page(f"{region}: story {post_id}", lead, body, region=region).encode()


# --- the measured side ---------------------------------------------------------------------


class Timer:
    def __enter__(self) -> Timer:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


async def measure(port: int, feeds: int, items: int, stage_sample: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    catalog = catalog_for([{"url": f"{base}/feed/{n}/", "interval": 180} for n in range(feeds)])
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(engine)
        sessions = session_factory(engine)
        clock = SystemClock()
        async with sessions.begin() as session:
            await sync_catalog_channels(session, catalog, clock.now())
        async with aiohttp.ClientSession() as http:
            ingestor = Ingestor(catalog, sessions, Fetcher(http), clock, alerts=LogAlerts())
            prime = await ingestor.poll_all()
            _expect(prime, {"new"}, "prime")
            with Timer() as t304:
                reports = await ingestor.poll_all()
            _expect(reports, {"not_modified"}, "304 cycle")
            results.update(not_modified_wall=t304.wall, not_modified_cpu=t304.cpu)

            async with http.post(f"{base}/_publish") as response:
                response.raise_for_status()
            with Timer() as fresh:
                reports = await ingestor.poll_all()
            _expect(reports, {"new"}, "fresh cycle")
            articles = sum(r.new_articles for r in reports)
            results.update(
                fresh_wall=fresh.wall,
                fresh_cpu=fresh.cpu,
                fresh_articles=articles,
                fresh_deliveries=sum(r.deliveries for r in reports),
            )
        await engine.dispose()
    results.update(stage_rate(stage_sample))
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def _expect(reports: list[Any], outcomes: set[str], step: str) -> None:
    bad = [r for r in reports if r.outcome not in outcomes]
    if bad:
        raise SystemExit(f"{step}: {len(bad)} unexpected outcomes, e.g. {bad[0]}")


def stage_rate(count: int) -> dict[str, float]:
    """Extract + summarize alone, one thread, over distinct article pages."""
    pages = [(f"http://site.example/a/{n}/", article_html(n).decode()) for n in range(count)]
    with Timer() as timer:
        for url, html in pages:
            page = extract_page(html, url)
            summary = summarize(
                "Story begins with a few words […]", page.text, "en", 600, page.title
            )
            if not summary:
                raise SystemExit(f"empty summary for {url}")
    return {"stage_articles": count, "stage_cpu": timer.cpu, "stage_rate": count / timer.cpu}


def report(results: dict[str, float], feeds: int) -> None:
    ok_304 = results["not_modified_wall"] < 5 and results["not_modified_cpu"] < 2
    print(f"feeds: {feeds}")
    print(
        f"304 cycle:   wall {results['not_modified_wall']:.2f} s, "
        f"CPU {results['not_modified_cpu']:.2f} s "
        f"(target < 5 s wall, < 2 s CPU: {'met' if ok_304 else 'MISSED'})"
    )
    print(
        f"fresh cycle: {results['fresh_articles']:.0f} articles "
        f"({results['fresh_deliveries']:.0f} deliveries), wall {results['fresh_wall']:.1f} s, "
        f"CPU {results['fresh_cpu']:.1f} s, "
        f"{results['fresh_articles'] / results['fresh_wall']:.0f} articles/s end to end "
        "(fetch feed + page, parse, extract, summarize, classify, store, enqueue)"
    )
    ok_rate = results["stage_rate"] >= 50
    print(
        f"extract + summarize on one core: {results['stage_rate']:.0f} articles/s "
        f"over {results['stage_articles']:.0f} pages "
        f"(target >= 50: {'met' if ok_rate else 'MISSED'})"
    )
    print(f"peak RSS: {results['peak_rss_mb']:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--stage-sample", type=int, default=2000, help="pages for step 4")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    receive, send = multiprocessing.Pipe(duplex=False)
    site = multiprocessing.Process(
        target=site_process, args=(send, args.feeds, args.items), daemon=True
    )
    site.start()
    try:
        port = receive.recv()
        results = asyncio.run(measure(port, args.feeds, args.items, args.stage_sample))
    finally:
        site.terminate()
        site.join(5)
    report(results, args.feeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
