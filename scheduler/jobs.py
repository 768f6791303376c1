"""The clock: one APScheduler job per feed at its interval, plus periodic housekeeping.

Jobs only call services (``Ingestor.poll``, ``MostReadRefresher.refresh``); the
scheduler never owns business rules. Each feed job gets ±15 % jitter so many
feeds do not hit one site in the same second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.catalog import Catalog
from scheduler.ingest import Ingestor
from scheduler.mostread import MostReadRefresher

JITTER = 0.15


def build_scheduler(
    catalog: Catalog,
    ingestor: Ingestor,
    mostread: MostReadRefresher,
    *,
    extra: list[tuple[str, float, Callable[[], Awaitable[object]]]] | None = None,
    first_run: datetime | None = None,
) -> AsyncIOScheduler:
    """A scheduler with every job registered (not started)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    start = first_run or datetime.now().astimezone()
    for index, feed in enumerate(catalog.feeds):
        scheduler.add_job(
            ingestor.poll,
            "interval",
            seconds=feed.interval,
            jitter=max(1, int(feed.interval * JITTER)),
            args=[feed],
            id=f"feed:{index}",
            name=f"poll {feed.url}",
            next_run_time=start,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=feed.interval,
        )
    scheduler.add_job(
        mostread.refresh,
        "interval",
        seconds=catalog.mostread.refresh,
        id="mostread",
        name="refresh most-read",
        next_run_time=start + timedelta(seconds=1),
        coalesce=True,
        max_instances=1,
    )
    for name, every, job in extra or []:
        scheduler.add_job(
            job, "interval", seconds=every, id=name, name=name, coalesce=True, max_instances=1
        )
    return scheduler
