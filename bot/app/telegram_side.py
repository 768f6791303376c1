"""The Telegram side of one process: the PTB application over aiohttp, the inbox that
stores updates before they are handled, the greeting (menus, webhook), and receiving
updates under the ``updates`` lease."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, ApplicationBuilder

from bot.alerts import Alerts
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator
from bot.inbox import Apology, DatabaseOutage, Inbox
from bot.leadership import Leadership
from bot.lifecycle import greet_telegram
from bot.outbox.budget import SharedBudget
from bot.outbox.pacing import Pacer
from bot.telegram.limiter import SharedBudgetLimiter
from bot.telegram.transport import telegram_request
from bot.updates import Poller, UpdateProcessor
from handlers.registry import ALLOWED_UPDATES, publish_menus

if TYPE_CHECKING:
    from bot.app.parts import Parts

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    http: aiohttp.ClientSession,
    pacer: Pacer,
    budget: SharedBudget | None = None,
) -> AnyApplication:
    """PTB over the process's aiohttp session, paced by the shared budget; no job queue
    and no Updater (it acknowledges updates before they are stored: bot.updates polls)."""
    api = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(telegram_request(settings.telegram_transport, http))
        .get_updates_request(telegram_request(settings.telegram_transport, http, read_timeout=40.0))
        .rate_limiter(SharedBudgetLimiter(pacer, budget=budget))
        .job_queue(None)
    )
    builder = builder.updater(None)
    return builder.build()


def build_inbox(
    application: AnyApplication,
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


def inline_mode(application: AnyApplication | None) -> Callable[[], bool]:
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
