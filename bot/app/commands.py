"""The two long-lived commands: ``newsbot run`` (updates and web, scheduler and sender,
by role) and ``newsbot poll --once`` (poll every feed, deliver, exit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from bot.activity import telegram_check
from bot.app.parts import Parts, assemble
from bot.app.telegram_side import AnyApplication, greet, receive_updates
from bot.app.workers import start_workers
from bot.catalog import Catalog
from bot.config import Settings
from bot.lifecycle import bring_up_telegram, stop_updates, wait_for_stop
from bot.startup import listen
from bot.web import WebServer
from bot.web.health import HealthChecks, database_check
from bot.web.ingest import IngestHook
from bot.web.private import MetricsServer
from bot.web.redirect import Redirects
from scheduler.extract_pool import extraction_pool
from scheduler.ingest import PollReport

log = logging.getLogger("newsbot")


async def poll_once(
    settings: Settings, catalog: Catalog, *, dry_run: bool, out: TextIO | None = None
) -> list[PollReport]:
    """``newsbot poll --once``: poll every feed, deliver what is due, exit."""
    async with assemble(settings, catalog, dry_run=dry_run, out=out) as parts:
        app = parts.application
        if app is not None:
            await app.initialize()
        try:
            reports = await parts.ingestor.poll_all()
            await parts.mostread.refresh()
            await parts.sender.drain()
        finally:
            if app is not None:
                await app.shutdown()
        return reports


async def run(
    settings: Settings,
    catalog: Catalog,
    *,
    dry_run: bool,
    stop: asyncio.Event,
    out: TextIO | None = None,
    role: str = "all",
    on_started: Callable[[], None] | None = None,
) -> None:
    """``newsbot run``: updates and web (role web), scheduler and sender (role worker).

    With ``all`` (the default) one process does everything. On PostgreSQL the
    scheduler and the sender each run only while this process holds their
    lease (bot.leadership), so several workers can run and a standby takes over.
    ``on_started`` is called once everything has started (the CLI freezes the
    start-up heap there, ``bot.heap``).
    """
    serve_updates = role in ("all", "web")
    do_work = role in ("all", "worker")
    async with (
        assemble(settings, catalog, dry_run=dry_run, out=out) as parts,
        extraction_pool() if do_work else contextlib.nullcontext(),
    ):
        app = parts.application if serve_updates else None
        web = build_listeners(settings, parts, role, app)
        workers: list[asyncio.Task[None]] = []
        connecting: asyncio.Task[None] | None = None
        try:
            await web.listen(settings)
            if do_work:
                workers = start_workers(parts, catalog, stop, web.telegram_ready, web.checks)
            connecting = _bring_up_telegram(parts, settings, app, stop, web.telegram_ready)
            _log_running(settings, catalog, role, dry_run, web)
            if on_started is not None:
                on_started()
            await wait_for_stop(stop, connecting)
        finally:
            log.info("shutting down")
            stop.set()
            await _wind_down(connecting, workers)
            await web.stop()
            await stop_updates(parts.application)


def _bring_up_telegram(
    parts: Parts,
    settings: Settings,
    app: AnyApplication | None,
    stop: asyncio.Event,
    ready: asyncio.Event,
) -> asyncio.Task[None]:
    """Connect in the background (retrying while Telegram is away), then serve updates
    when ``app`` is given; ``ready`` lets the sender go."""
    return asyncio.create_task(
        bring_up_telegram(
            parts.application,
            app,
            lambda: greet(parts, settings),
            lambda until: receive_updates(parts, settings, until),
            stop,
            ready,
        ),
        name="telegram",
    )


@dataclass
class Listeners:
    """The process's listeners: the private one (/metrics, detailed /healthz) in every
    role, the public web server (webhook, redirects, CMS hook) where updates are served,
    and the health checks they answer with."""

    private: MetricsServer
    public: WebServer | None
    checks: HealthChecks
    telegram_ready: asyncio.Event

    async def listen(self, settings: Settings) -> None:
        await listen(
            self.private.start,
            "NEWSBOT_METRICS_PORT",
            settings.metrics_host,
            settings.metrics_port,
        )
        if self.public is not None:
            # Before the webhook is registered, so no update bounces.
            await listen(
                self.public.start, "NEWSBOT_WEB_PORT", settings.web_host, settings.web_port
            )

    async def stop(self) -> None:
        if self.public is not None:
            await self.public.stop()
        await self.private.stop()


def build_listeners(
    settings: Settings, parts: Parts, role: str, app: AnyApplication | None
) -> Listeners:
    """The listeners of ``role``; ``app`` is the application when updates are served."""
    clock = parts.services.clock
    checks = HealthChecks(role)
    checks.add("database", database_check(parts.sessions, clock))
    telegram_ready = asyncio.Event()
    checks.add("telegram", telegram_check(parts.application, telegram_ready))
    private = MetricsServer(settings, parts.sessions, checks)
    if role not in ("all", "web"):  # a worker has no public listener
        return Listeners(private, None, checks, telegram_ready)
    redirects = Redirects(
        settings.signing_key(), parts.sessions, clock, trusted_proxies=settings.trusted_proxies
    )
    ingest = IngestHook(
        settings.ingest_secret.get_secret_value() if settings.ingest_secret else None,
        lambda push: parts.ingestor.push(
            post_id=push.post_id, url=push.url, breaking=push.breaking
        ),
        parts.sessions,
        clock,
    )
    public = WebServer(
        settings,
        parts.sessions,
        application=app,
        redirects=redirects,
        ingest=ingest,
        inbox=parts.inbox,
    )
    return Listeners(private, public, checks, telegram_ready)


def _log_running(
    settings: Settings, catalog: Catalog, role: str, dry_run: bool, web: Listeners
) -> None:
    log.info(
        "newsbot running (role %s): %d feeds, %s%s, metrics and health on %s:%d",
        role,
        len(catalog.feeds),
        "dry run (printing instead of sending)" if dry_run else "sending to Telegram",
        f", web on {settings.web_host}:{web.public.port}" if web.public is not None else "",
        settings.metrics_host,
        web.private.port,
    )


async def _wind_down(
    connecting: asyncio.Task[None] | None, workers: list[asyncio.Task[None]]
) -> None:
    """Stop connecting to Telegram, and let the scheduler and the sender finish."""
    if connecting is not None and not connecting.done():
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
    if workers:
        await asyncio.gather(*workers, return_exceptions=True)
