"""Helpers for sender tests: the production sender wired to a FakeBotAPI."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ExtBot

from bot.catalog import Catalog
from bot.clock import Clock, SystemClock
from bot.i18n import Translator
from bot.metrics import DeliveryMetrics
from bot.outbox.budget import SharedBudget
from bot.outbox.compose import PostBuilder
from bot.outbox.pacing import Pacer
from bot.outbox.sender import Sender
from bot.telegram.limiter import SharedBudgetLimiter
from bot.telegram.publisher import TelegramPublisher
from bot.telegram.transport import telegram_request
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI


async def build_sender(
    api: FakeBotAPI,
    http: aiohttp.ClientSession,
    sessions: async_sessionmaker[AsyncSession],
    metrics: DeliveryMetrics,
    read_timeout: float = 5.0,
    budget: SharedBudget | None = None,
) -> Sender:
    catalog = make_catalog([])
    posts = PostBuilder(catalog, Translator.load(["en"], "en"))
    pacer = Pacer(100)
    bot = ext_bot(api, http, pacer, read_timeout)
    await bot.initialize()
    publisher = TelegramPublisher(bot, posts)
    return Sender(sessions, publisher, pacer, SystemClock(), metrics=metrics, budget=budget)


def ext_bot(
    api: FakeBotAPI, http: aiohttp.ClientSession, pacer: Pacer, read_timeout: float = 5.0
) -> ExtBot[dict[str, object]]:
    """The bot the application builds: an ``ExtBot`` on the default transport (the lean
    client, aiohttp for uploads), sharing the sender's pacer."""
    return ExtBot(
        api.token,
        base_url=f"{api.base_url}/bot",
        request=telegram_request("lean", http, read_timeout=read_timeout),
        rate_limiter=SharedBudgetLimiter(pacer),
    )


@contextlib.asynccontextmanager
async def sender_for(
    api: FakeBotAPI,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock | None = None,
    catalog: Catalog | None = None,
) -> AsyncIterator[Sender]:
    """The production sender and publisher (every outbox kind) talking to ``api``."""
    translator = Translator.load(["en", "ru"], "en")
    posts = PostBuilder(catalog or make_catalog([]), translator)
    pacer = Pacer(100)
    async with aiohttp.ClientSession() as http:
        bot = ext_bot(api, http, pacer)
        await bot.initialize()
        try:
            yield Sender(
                sessions,
                TelegramPublisher(bot, posts, clock=clock),
                pacer,
                clock or SystemClock(),
                metrics=DeliveryMetrics(CollectorRegistry()),
            )
        finally:
            await bot.shutdown()
