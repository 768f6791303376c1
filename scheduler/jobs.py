"""The clock: one APScheduler job per feed at its interval, plus periodic housekeeping.

Jobs only call services (``Ingestor.poll``, ``MostReadRefresher.refresh``); the
scheduler never owns business rules. The ingestor decides when a feed is due
again (jittered, stretched for slow feeds, backed off, or held by Retry-After)
and says so in its report; the feed's job is then moved to that time. The
interval trigger (with ±15 % jitter) only covers a poll that could not say.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.catalog import Catalog, Feed
from scheduler.ingest import Ingestor, PollReport
from scheduler.mostread import MostReadRefresher

log = logging.getLogger(__name__)

#: A periodic job besides the polls: its name, how often it runs (seconds), what it runs.
Job = tuple[str, float, Callable[[], Awaitable[object]]]

JITTER = 0.15
#: Unfinished private fan-outs (a process died mid-way) are resumed this often.
FANOUT_EVERY = 30.0


def build_scheduler(
    catalog: Catalog,
    ingestor: Ingestor,
    mostread: MostReadRefresher,
    *,
    extra: list[Job] | None = None,
    first_run: datetime | None = None,
) -> AsyncIOScheduler:
    """A scheduler with every job registered (not started)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    start = first_run or datetime.now().astimezone()
    for index, feed in enumerate(catalog.feeds):
        add_feed_job(scheduler, ingestor, feed, f"feed:{index}", start)
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
    scheduler.add_job(
        ingestor.resume_fan_out,
        "interval",
        seconds=FANOUT_EVERY,
        id="fanout",
        name="private fan-out",
        next_run_time=start,
        coalesce=True,
        max_instances=1,
    )
    for name, every, job in extra or []:
        scheduler.add_job(
            job, "interval", seconds=every, id=name, name=name, coalesce=True, max_instances=1
        )
    return scheduler


def add_feed_job(
    scheduler: AsyncIOScheduler, ingestor: Ingestor, feed: Feed, job_id: str, start: datetime
) -> None:
    """The feed's poll at its interval (jittered), first at ``start``; one at a time, and
    a missed one runs late rather than not at all, within one interval."""
    scheduler.add_job(
        poll_and_reschedule,
        "interval",
        seconds=feed.interval,
        jitter=max(1, int(feed.interval * JITTER)),
        args=[scheduler, ingestor, feed, job_id],
        id=job_id,
        name=f"poll {feed.url}",
        next_run_time=start,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=feed.interval,
    )


async def poll_and_reschedule(
    scheduler: AsyncIOScheduler, ingestor: Ingestor, feed: Feed, job_id: str
) -> PollReport:
    """Poll one feed, then move its job to the time the ingestor says it is due."""
    report = await ingestor.poll(feed)
    if report.next_poll_at is not None:
        reschedule(scheduler, job_id, report.next_poll_at)
    return report


def reschedule(scheduler: AsyncIOScheduler, job_id: str, when: datetime) -> None:
    """Next run of ``job_id`` at ``when`` (naive UTC); a job gone at shutdown is fine."""
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    try:
        scheduler.modify_job(job_id, next_run_time=aware)
    except JobLookupError:
        log.debug("job %s is gone; not rescheduled", job_id)
