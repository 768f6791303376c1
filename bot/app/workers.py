"""The worker role: the scheduler (polls, most-read, digests, weekly lists, corrections,
retention, pins) and the sender, each running only while this process holds its lease
(bot.leadership), so several workers can run and a standby takes over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.activity import activity_check
from bot.catalog import Catalog
from bot.fencing import fenced_sessions
from bot.leadership import Leadership
from bot.lifecycle import first_of
from bot.metrics import shared_feed_metrics
from bot.retention import EVERY as RETENTION_EVERY
from bot.retention import Retention
from bot.web.health import HealthChecks, leadership_check
from handlers.pins import pin_jobs
from scheduler.corrections import correction_jobs
from scheduler.digest import digest_jobs
from scheduler.jobs import Job, build_scheduler
from scheduler.weekly import weekly_jobs

if TYPE_CHECKING:
    from bot.app.parts import Parts

TAKEOVER_PAUSE = 1.0  # seconds a new sender waits before its first message
SHUTDOWN_POLL_WAIT = 30.0  # seconds a running poll may take to commit at shutdown


def start_workers(
    parts: Parts,
    catalog: Catalog,
    stop: asyncio.Event,
    telegram_ready: asyncio.Event,
    checks: HealthChecks | None = None,
) -> list[asyncio.Task[None]]:
    """The scheduler and the sender, each under its own leadership (shown in ``checks``);
    the sender starts once Telegram has answered (``telegram_ready``)."""
    scheduler_lead = Leadership(parts.engine, "scheduler")
    sender_lead = Leadership(parts.engine, "sender")

    async def scheduling(until: asyncio.Event) -> None:
        await run_scheduler(parts, catalog, until, scheduler_lead)

    async def sending(until: asyncio.Event) -> None:
        await run_sender(parts, until, telegram_ready, sender_lead)

    for lead in (scheduler_lead, sender_lead):
        parts.sender.metrics.watch_leader(lead.name, _leads(lead))
    if checks is not None:
        _add_worker_checks(checks, parts, catalog, scheduler_lead, sender_lead)
    return [
        asyncio.create_task(scheduler_lead.run(stop, scheduling), name="scheduler"),
        asyncio.create_task(sender_lead.run(stop, sending), name="sender"),
    ]


async def run_scheduler(
    parts: Parts, catalog: Catalog, until: asyncio.Event, lead: Leadership
) -> None:
    """Every periodic job until ``until``; a poll running at the end commits first.

    Every write of the jobs commits only under ``lead``'s lease (``bot.fencing``): an
    old leader that comes back after a standby took over writes nothing.
    """
    fenced = fenced_sessions(parts.engine, lead)
    parts.ingestor.write_as_leader(fenced)
    scheduler = build_scheduler(
        catalog,
        parts.ingestor,
        parts.mostread.using(fenced),
        extra=scheduled_jobs(parts, catalog, fenced),
    )
    scheduler.start()
    try:
        await until.wait()
    finally:
        # No new job starts; a poll running now commits first (shutting the scheduler
        # down at once would cancel it mid-way, with a traceback in the log).
        scheduler.pause()
        idle = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(parts.ingestor.wait_idle(), SHUTDOWN_POLL_WAIT)
            idle = True
        scheduler.shutdown(wait=False)
        if idle:  # else a late poll still runs: its writes stay fenced
            parts.ingestor.write_as_leader(None)


def scheduled_jobs(
    parts: Parts, catalog: Catalog, sessions: async_sessionmaker[AsyncSession] | None = None
) -> list[Job]:
    """The jobs besides polls, most-read refreshes and fan-outs (``build_scheduler``'s
    own), writing through ``sessions`` (the leader's, fenced; the process's by default).
    A dry run sends no digests, weekly lists or deletions."""
    sessions = sessions or parts.sessions
    bot = parts.application.bot if parts.application is not None else None
    services = parts.services
    live = bot is not None
    wake = parts.sender.wake
    jobs = digest_jobs(
        catalog,
        parts.translator,
        sessions,
        services.clock,
        enabled=live,
        mostread=services.mostread,
        on_enqueued=wake,
    )
    jobs += weekly_jobs(
        catalog,
        parts.translator,
        sessions,
        services.mostread,
        services.clock,
        enabled=live,
        on_enqueued=wake,
    )
    jobs += correction_jobs(parts.ingestor.check_removed if live else None)
    jobs.append(("retention", RETENTION_EVERY, retention_for(parts, sessions).prune))
    jobs += pin_jobs(sessions, services.clock, bot)
    return jobs


async def run_sender(
    parts: Parts, until: asyncio.Event, telegram_ready: asyncio.Event, lead: Leadership
) -> None:
    """Send once Telegram has answered, after the takeover pause."""
    await first_of(until, telegram_ready)
    # A new leader knows nothing of what the previous one sent in its last second:
    # wait that second out, so the two together stay within Telegram's limits.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until.wait(), TAKEOVER_PAUSE)
    if not until.is_set():
        await parts.sender.run(until, lease=lead)


def retention_for(
    parts: Parts, sessions: async_sessionmaker[AsyncSession] | None = None
) -> Retention:
    settings = parts.services.settings
    return Retention(
        sessions or parts.sessions,
        parts.services.clock,
        keep_deliveries_days=settings.keep_deliveries_days,
        keep_articles_days=settings.keep_articles_days,
    )


def _add_worker_checks(
    checks: HealthChecks,
    parts: Parts,
    catalog: Catalog,
    scheduler_lead: Leadership,
    sender_lead: Leadership,
) -> None:
    checks.add("leadership", leadership_check([scheduler_lead, sender_lead]))
    checks.add(
        "activity",
        activity_check(
            shared_feed_metrics(),
            parts.sender.metrics,
            _leads(scheduler_lead),
            max((feed.interval for feed in catalog.feeds), default=None),
        ),
    )


def _leads(lead: Leadership) -> Callable[[], bool]:
    """Whether this process runs ``lead``'s work now (without PostgreSQL it always does)."""
    return lambda: lead.is_leader or not lead.needed
