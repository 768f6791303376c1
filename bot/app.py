"""The composition root: the one place that builds every part and starts/stops them.

``bot`` core modules never import ``handlers`` or ``scheduler``; this module is
the exception by design (DESIGN.md "The shape"). Start order: database and
migrations, HTTP session, services, then Telegram, web, scheduler and sender;
stop order is the reverse, and in-flight sends are recorded before exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TextIO

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder

from bot.activity import activity_check, telegram_check
from bot.alerts import Alerts, BatchedAlerts, LogAlerts
from bot.catalog import Catalog
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.i18n import Translator
from bot.inbox import Apology, DatabaseOutage, Inbox
from bot.leadership import Leadership
from bot.lifecycle import (
    bring_up_telegram,
    first_of,
    greet_telegram,
    stop_updates,
    wait_for_stop,
)
from bot.links import tracked_links
from bot.metrics import shared_feed_metrics
from bot.mostread import MostReadStore
from bot.net.guard import OutboundGuard
from bot.net.policy import OutboundPolicy
from bot.outbox.budget import SharedBudget
from bot.outbox.compose import PostBuilder
from bot.outbox.kinds import ALERT, POST, enqueue_alert
from bot.outbox.pacing import Pacer
from bot.outbox.queue import Applied, Dead, Delivery, Outcome
from bot.outbox.sender import Publisher, Sender
from bot.retention import EVERY as RETENTION_EVERY
from bot.retention import Retention
from bot.startup import listen, sqlite_file_problem, wait_for_database
from bot.storage.engine import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.repo import ensure_feed, sync_catalog_channels
from bot.telegram.limiter import SharedBudgetLimiter
from bot.telegram.publisher import DryRunPublisher, TelegramPublisher
from bot.telegram.request import AiohttpRequest
from bot.updates import Poller, UpdateProcessor
from bot.web import WebServer
from bot.web.health import HealthChecks, database_check, leadership_check
from bot.web.ingest import IngestHook
from bot.web.private import MetricsServer
from bot.web.redirect import Redirects
from handlers.pins import pin_jobs
from handlers.registry import ALLOWED_UPDATES, publish_menus, register
from handlers.services import Services
from scheduler.corrections import correction_jobs
from scheduler.digest import digest_jobs
from scheduler.extract_pool import extraction_pool
from scheduler.fetch import Fetcher, FetchLimits
from scheduler.ingest import Ingestor, PollReport
from scheduler.jobs import build_scheduler
from scheduler.mostread import MostReadRefresher, weekly_jobs

log = logging.getLogger("newsbot")

TAKEOVER_PAUSE = 1.0  # seconds a new sender waits before its first message
USER_AGENT = "newsbot/0.1 (Telegram distribution bot; +https://github.com/newsbot)"


@dataclass
class Parts:
    """Everything built for one process, exposed for tests and the CLI."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: aiohttp.ClientSession
    translator: Translator
    ingestor: Ingestor
    sender: Sender
    mostread: MostReadRefresher
    services: Services
    alerts: Alerts
    application: Application[Any, Any, Any, Any, Any, Any] | None
    publisher: Publisher
    inbox: Inbox | None = None


@dataclass
class Outbound:
    """The process's HTTP: ``http`` reaches the origins the operator named (the Bot API
    and the catalog's URLs) and carries the Bot API calls; ``fetcher`` fetches through
    it and, for everything else, through the guard (outlet hosts, public addresses)."""

    http: aiohttp.ClientSession
    guard: OutboundGuard
    fetcher: Fetcher

    async def close(self) -> None:
        await self.http.close()
        await self.guard.close()


def open_outbound(
    settings: Settings, catalog: Catalog, limits: FetchLimits | None = None
) -> Outbound:
    """The one way this process fetches; call inside the event loop, close when done."""
    headers = {"User-Agent": USER_AGENT}
    http = aiohttp.ClientSession(headers=headers)
    guard = OutboundGuard(OutboundPolicy.from_config(settings, catalog), headers=headers)
    fetcher = Fetcher(http, limits=limits or FetchLimits(), user_agent=USER_AGENT, guard=guard)
    return Outbound(http, guard, fetcher)


async def prepare_database(settings: Settings, catalog: Catalog, clock: Clock) -> AsyncEngine:
    """Migrate and sync the catalog, waiting up to ``NEWSBOT_DB_WAIT`` for the database."""
    problem = sqlite_file_problem(settings.database_url)
    if problem is not None:
        raise ConfigError([problem])
    engine = create_engine(settings.database_url)

    async def prepare() -> AsyncEngine:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            for feed in catalog.feeds:
                await ensure_feed(session, feed.url)
            await sync_catalog_channels(session, catalog, clock.now())
        return engine

    try:
        return await wait_for_database(prepare, settings.db_wait)
    except Exception:
        await engine.dispose()
        # aiosqlite stops a failed connection's thread with a reply to this loop: let it
        # arrive before the loop closes, or the thread prints a traceback of its own.
        await asyncio.sleep(0.2)
        raise
    except BaseException:
        await engine.dispose()
        raise


def build_application(
    settings: Settings,
    http: aiohttp.ClientSession,
    pacer: Pacer,
    budget: SharedBudget | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    api = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(AiohttpRequest(http))
        .get_updates_request(AiohttpRequest(http, read_timeout=40.0))
        .rate_limiter(SharedBudgetLimiter(pacer, budget=budget))
        .job_queue(None)
    )
    # No PTB Updater: it acknowledges updates before they are stored (bot.updates polls).
    builder = builder.updater(None)
    return builder.build()


def build_inbox(
    application: Application[Any, Any, Any, Any, Any, Any],
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    alerts: Alerts,
    translator: Translator,
) -> Inbox:
    apology = Apology(
        application.bot,
        lambda language: translator.gettext(
            translator.pick_language(language), "errors.unavailable"
        ),
    )
    return Inbox(sessions, clock, DatabaseOutage(alerts), apology)


def _editors_alerts(
    settings: Settings,
    bot: Bot | None,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    wake: Callable[[], None],
) -> Alerts:
    """Alerts are outbox rows for the editors' chat, sent by the sender like any message.
    When they cannot be queued (the database is down: the alert may well say so), they
    go straight to Telegram instead, as a reply would."""
    chat = settings.editors_chat_id
    if bot is None or chat is None:
        return LogAlerts()
    address = str(chat)

    async def send(text: str) -> None:
        try:
            async with sessions.begin() as session:
                await enqueue_alert(session, address, text[:4000], clock.now())
        except Exception as exc:
            log.warning("alert not queued (%r); sending it directly", exc)
            await bot.send_message(chat, text[:4000], parse_mode=None)
            return
        wake()

    return BatchedAlerts(send)


@contextlib.asynccontextmanager
async def assemble(
    settings: Settings,
    catalog: Catalog,
    *,
    dry_run: bool,
    out: TextIO | None = None,
    clock: Clock | None = None,
    fetch_limits: FetchLimits | None = None,
) -> AsyncIterator[Parts]:
    """Build every part; close them all on exit, whatever happened."""
    clock = clock or SystemClock()
    engine = await prepare_database(settings, catalog, clock)
    sessions = session_factory(engine)
    net = open_outbound(settings, catalog, fetch_limits)
    http, fetcher = net.http, net.fetcher
    try:
        translator = Translator.load(
            [lang for lang in catalog.languages if lang in Translator.available()],
            catalog.default_language,
        )
        pacer = Pacer(settings.effective_rate, reach=settings.send_reach)
        # Several processes share one database, and Telegram's limit: on PostgreSQL every
        # send also takes its grant from the budget they share (bot.outbox.budget).
        budget = (
            SharedBudget(engine, settings.effective_rate, reach=settings.send_reach)
            if SharedBudget.wanted(engine) and not dry_run
            else None
        )
        application = None if dry_run else build_application(settings, http, pacer, budget)
        posts = PostBuilder(
            catalog,
            translator,
            links=tracked_links(settings.signing_key(), settings.public_url),
            sharing=inline_mode(application),
        )
        publisher: Publisher
        if application is None:
            publisher = DryRunPublisher(posts, out)
        else:
            publisher = TelegramPublisher(
                application.bot, posts, paid_broadcast=settings.paid_broadcast, clock=clock
            )
        woken: list[Callable[[], None]] = []  # the sender, once built, wakes for alerts

        def wake_sender() -> None:
            for wake in woken:
                wake()

        alerts = _editors_alerts(
            settings, application.bot if application else None, sessions, clock, wake_sender
        )
        sender = Sender(
            sessions,
            publisher,
            pacer,
            clock,
            on_outcome=_dead_letter_alerts(alerts),
            budget=budget,
        )
        woken.append(sender.wake)
        sender.metrics.rate_limit.set(settings.effective_rate)
        store = MostReadStore(sessions, catalog.mostread.source, catalog.mostread.limit)
        ingestor = Ingestor(
            catalog,
            sessions,
            fetcher,
            clock,
            alerts=alerts,
            summary_length=settings.summary_length,
            on_enqueued=sender.wake,
        )
        services = Services(settings, catalog, translator, sessions, clock, store, posts, alerts)
        if application is not None:
            register(application, services)
        yield Parts(
            engine,
            sessions,
            http,
            translator,
            ingestor,
            sender,
            MostReadRefresher(catalog, sessions, fetcher, store, clock),
            services,
            alerts,
            application,
            publisher,
            None
            if application is None
            else build_inbox(application, sessions, clock, alerts, translator),
        )
        if isinstance(alerts, BatchedAlerts):
            await alerts.close()
    finally:
        await net.close()
        await engine.dispose()


def inline_mode(
    application: Application[Any, Any, Any, Any, Any, Any] | None,
) -> Callable[[], bool]:
    """Whether the bot answers inline queries (BotFather's /setinline), as getMe said;
    False before the bot is initialized and in a dry run."""

    def enabled() -> bool:
        if application is None:
            return False
        try:
            return bool(application.bot.supports_inline_queries)
        except RuntimeError:  # getMe not called yet
            return False

    return enabled


def _dead_letter_alerts(alerts: Alerts) -> Any:
    async def on_outcome(delivery: Delivery, outcome: Outcome, applied: Applied) -> None:
        if applied.state == "dead" and delivery.kind != ALERT:  # an alert's own: logged only
            reason = outcome.error if isinstance(outcome, Dead) else getattr(outcome, "error", "")
            what = f"article {delivery.article_id}" if delivery.kind == POST else delivery.kind
            await alerts.alert(f"Dead letter: {what} to {delivery.address}: {reason}")

    return on_outcome


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
        redirects = Redirects(
            settings.signing_key(),
            parts.sessions,
            parts.services.clock,
            trusted_proxies=settings.trusted_proxies,
        )
        ingest = IngestHook(
            settings.ingest_secret.get_secret_value() if settings.ingest_secret else None,
            lambda push: parts.ingestor.push(
                post_id=push.post_id, url=push.url, breaking=push.breaking
            ),
            parts.sessions,
            parts.services.clock,
        )
        checks = HealthChecks(role)
        checks.add("database", database_check(parts.sessions, parts.services.clock))
        telegram_ready = asyncio.Event()
        checks.add("telegram", telegram_check(parts.application, telegram_ready))
        # Every role has the private listener (/metrics, detailed /healthz); a worker has
        # no public one.
        private = MetricsServer(settings, parts.sessions, checks)
        web = (
            WebServer(
                settings,
                parts.sessions,
                application=app,
                redirects=redirects,
                ingest=ingest,
                inbox=parts.inbox,
            )
            if serve_updates
            else None
        )
        workers: list[asyncio.Task[None]] = []
        connecting: asyncio.Task[None] | None = None
        try:
            await listen(
                private.start, "NEWSBOT_METRICS_PORT", settings.metrics_host, settings.metrics_port
            )
            if web is not None:
                # Before the webhook is registered, so no update bounces.
                await listen(web.start, "NEWSBOT_WEB_PORT", settings.web_host, settings.web_port)
            if do_work:
                workers = start_workers(parts, catalog, stop, telegram_ready, checks)
            connecting = asyncio.create_task(
                bring_up_telegram(
                    parts.application,
                    app,
                    lambda: greet(parts, settings),
                    lambda until: receive_updates(parts, settings, until),
                    stop,
                    telegram_ready,
                ),
                name="telegram",
            )
            log.info(
                "newsbot running (role %s): %d feeds, %s%s, metrics and health on %s:%d",
                role,
                len(catalog.feeds),
                "dry run (printing instead of sending)" if dry_run else "sending to Telegram",
                f", web on {settings.web_host}:{web.port}" if web is not None else "",
                settings.metrics_host,
                private.port,
            )
            if on_started is not None:
                on_started()
            await wait_for_stop(stop, connecting)
        finally:
            log.info("shutting down")
            stop.set()
            if connecting is not None and not connecting.done():
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
            if workers:
                await asyncio.gather(*workers, return_exceptions=True)
            if web is not None:
                await web.stop()
            await private.stop()
            await stop_updates(parts.application)


async def greet(parts: Parts, settings: Settings) -> None:
    app = parts.application
    assert app is not None
    await greet_telegram(
        app, settings, lambda: publish_menus(app.bot, parts.services), list(ALLOWED_UPDATES)
    )


async def receive_updates(parts: Parts, settings: Settings, stop: asyncio.Event) -> None:
    """Store and handle updates until ``stop``: long polling unless a webhook is set (then
    ``POST /telegram`` stores them). One process at a time handles the inbox (on
    PostgreSQL, the holder of the ``updates`` lease), so each update is handled once."""
    app, inbox = parts.application, parts.inbox
    assert app is not None and inbox is not None
    processor = UpdateProcessor(app, inbox, parts.sessions, parts.services.clock)
    polling = (
        None
        if settings.webhook_url
        else asyncio.create_task(
            Poller(app, inbox, list(ALLOWED_UPDATES)).run(stop), name="polling"
        )
    )
    try:
        await Leadership(parts.engine, "updates").run(stop, processor.run)
    finally:
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling


def retention_for(parts: Parts) -> Retention:
    settings = parts.services.settings
    return Retention(
        parts.sessions,
        parts.services.clock,
        keep_deliveries_days=settings.keep_deliveries_days,
        keep_articles_days=settings.keep_articles_days,
    )


def start_workers(
    parts: Parts,
    catalog: Catalog,
    stop: asyncio.Event,
    telegram_ready: asyncio.Event,
    checks: HealthChecks | None = None,
) -> list[asyncio.Task[None]]:
    """The scheduler and the sender, each under its own leadership (shown in ``checks``);
    the sender starts once Telegram has answered (``telegram_ready``)."""

    async def scheduling(until: asyncio.Event) -> None:
        bot = parts.application.bot if parts.application is not None else None
        services = parts.services
        live = bot is not None  # a dry run sends no digests, weekly lists or deletions
        wake = parts.sender.wake
        extra = digest_jobs(
            catalog,
            parts.translator,
            parts.sessions,
            services.clock,
            enabled=live,
            mostread=services.mostread,
            on_enqueued=wake,
        )
        extra += weekly_jobs(
            catalog,
            parts.translator,
            parts.sessions,
            services.mostread,
            services.clock,
            enabled=live,
            on_enqueued=wake,
        )
        extra += correction_jobs(parts.ingestor.check_removed if live else None)
        extra.append(("retention", RETENTION_EVERY, retention_for(parts).prune))
        extra += pin_jobs(parts.sessions, services.clock, bot)
        scheduler = build_scheduler(catalog, parts.ingestor, parts.mostread, extra=extra)
        scheduler.start()
        try:
            await until.wait()
        finally:
            # No new job starts; a poll running now commits first (shutting the scheduler
            # down at once would cancel it mid-way, with a traceback in the log).
            scheduler.pause()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(parts.ingestor.wait_idle(), 30)
            scheduler.shutdown(wait=False)

    sender_lead = Leadership(parts.engine, "sender")

    async def sending(until: asyncio.Event) -> None:
        await first_of(until, telegram_ready)
        # A new leader knows nothing of what the previous one sent in its last second:
        # wait that second out, so the two together stay within Telegram's limits.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), TAKEOVER_PAUSE)
        if not until.is_set():
            await parts.sender.run(until, lease=sender_lead)

    scheduler_lead = Leadership(parts.engine, "scheduler")
    for lead in (scheduler_lead, sender_lead):
        parts.sender.metrics.watch_leader(lead.name, _leads(lead))
    if checks is not None:
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
    return [
        asyncio.create_task(scheduler_lead.run(stop, scheduling), name="scheduler"),
        asyncio.create_task(sender_lead.run(stop, sending), name="sender"),
    ]


def _leads(lead: Leadership) -> Callable[[], bool]:
    """Whether this process runs ``lead``'s work now (without PostgreSQL it always does)."""
    return lambda: lead.is_leader or not lead.needed


__all__ = ["ParseMode", "assemble", "poll_once", "run"]
