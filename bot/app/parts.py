"""Every part of one process, built in order and closed in reverse (``assemble``).

The send path (pacer, shared budget, the PTB application, posts, publisher, sender)
comes first, since the editors' alerts and the ingestor wake the sender; then the
most-read store, the ingestor and the handlers' services.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TextIO

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.alerts import Alerts, BatchedAlerts
from bot.app.alerting import dead_letter_alerts, editors_alerts
from bot.app.database import prepare_database
from bot.app.outbound import Outbound, open_outbound
from bot.app.telegram_side import AnyApplication, build_application, build_inbox, inline_mode
from bot.catalog import Catalog
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import Translator
from bot.inbox import Inbox
from bot.links import tracked_links
from bot.mostread import MostReadStore
from bot.outbox.budget import SharedBudget
from bot.outbox.compose import PostBuilder
from bot.outbox.pacing import Pacer
from bot.outbox.sender import Publisher, Sender
from bot.storage.engine import session_factory
from bot.telegram.publisher import DryRunPublisher, TelegramPublisher
from handlers.registry import register
from handlers.services import Services
from scheduler.fetch import FetchLimits
from scheduler.ingest import Ingestor
from scheduler.mostread import MostReadRefresher


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
    application: AnyApplication | None
    publisher: Publisher
    inbox: Inbox | None = None


@dataclass
class SendPath:
    """What sends: the PTB application (none in a dry run), the posts it renders, the
    publisher that makes requests of them, the sender, and the alerts it carries."""

    application: AnyApplication | None
    posts: PostBuilder
    publisher: Publisher
    sender: Sender
    alerts: Alerts


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
    net = open_outbound(settings, catalog, fetch_limits)
    try:
        parts = build_parts(settings, catalog, engine, net, clock, dry_run=dry_run, out=out)
        yield parts
        if isinstance(parts.alerts, BatchedAlerts):
            await parts.alerts.close()
    finally:
        await net.close()
        await engine.dispose()


def build_parts(
    settings: Settings,
    catalog: Catalog,
    engine: AsyncEngine,
    net: Outbound,
    clock: Clock,
    *,
    dry_run: bool,
    out: TextIO | None,
) -> Parts:
    """Every part over an open database and HTTP session; handlers registered."""
    sessions = session_factory(engine)
    translator = load_translator(catalog)
    send = build_send_path(
        settings, catalog, engine, sessions, net, clock, translator, dry_run=dry_run, out=out
    )
    store = MostReadStore(sessions, catalog.mostread.source, catalog.mostread.limit)
    ingestor = build_ingestor(settings, catalog, sessions, net, clock, send)
    services = Services(
        settings, catalog, translator, sessions, clock, store, send.posts, send.alerts
    )
    app = send.application
    if app is not None:
        register(app, services)
    return Parts(
        engine,
        sessions,
        net.http,
        translator,
        ingestor,
        send.sender,
        MostReadRefresher(catalog, sessions, net.fetcher, store, clock),
        services,
        send.alerts,
        app,
        send.publisher,
        None if app is None else build_inbox(app, sessions, clock, send.alerts, translator),
    )


def load_translator(catalog: Catalog) -> Translator:
    """The UI strings of the catalog's languages that have a translation."""
    return Translator.load(
        [lang for lang in catalog.languages if lang in Translator.available()],
        catalog.default_language,
    )


def build_ingestor(
    settings: Settings,
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    net: Outbound,
    clock: Clock,
    send: SendPath,
) -> Ingestor:
    """The ingestor, waking the sender when it has queued rows and alerting editors."""
    return Ingestor(
        catalog,
        sessions,
        net.fetcher,
        clock,
        alerts=send.alerts,
        summary_length=settings.summary_length,
        on_enqueued=send.sender.wake,
    )


def build_send_path(
    settings: Settings,
    catalog: Catalog,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    net: Outbound,
    clock: Clock,
    translator: Translator,
    *,
    dry_run: bool,
    out: TextIO | None,
) -> SendPath:
    """The sender and what it needs; in a dry run the publisher prints to ``out``."""
    pacer = Pacer(settings.effective_rate, reach=settings.send_reach)
    # Several processes share one database, and Telegram's limit: on PostgreSQL every
    # send also takes its grant from the budget they share (bot.outbox.budget).
    budget = (
        SharedBudget(engine, settings.effective_rate, reach=settings.send_reach)
        if SharedBudget.wanted(engine) and not dry_run
        else None
    )
    application = None if dry_run else build_application(settings, net.http, pacer, budget)
    posts = PostBuilder(
        catalog,
        translator,
        links=tracked_links(settings.signing_key(), settings.public_url),
        sharing=inline_mode(application),
    )
    publisher = build_publisher(settings, application, posts, clock, out)
    woken: list[Callable[[], None]] = []  # the sender, once built, wakes for alerts

    def wake_sender() -> None:
        for wake in woken:
            wake()

    bot = application.bot if application else None
    alerts = editors_alerts(settings, bot, sessions, clock, wake_sender, translator)
    sender = Sender(
        sessions, publisher, pacer, clock, on_outcome=dead_letter_alerts(alerts), budget=budget
    )
    woken.append(sender.wake)
    sender.metrics.rate_limit.set(settings.effective_rate)
    return SendPath(application, posts, publisher, sender, alerts)


def build_publisher(
    settings: Settings,
    application: AnyApplication | None,
    posts: PostBuilder,
    clock: Clock,
    out: TextIO | None,
) -> Publisher:
    """Requests to Telegram, or, in a dry run (no application), lines printed to ``out``."""
    if application is None:
        return DryRunPublisher(posts, out)
    return TelegramPublisher(
        application.bot, posts, paid_broadcast=settings.paid_broadcast, clock=clock
    )
