"""Building blocks for ingestion tests: a manual clock, a catalog, an ingestor on a real DB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import LogAlerts
from bot.catalog import Catalog, parse_catalog
from bot.storage.models import ArticleRow, FeedRow, OutboxRow
from bot.storage.repo import sync_catalog_channels
from scheduler.fetch import Fetcher, FetchLimits
from scheduler.ingest import Ingestor

SITE = "https://caucasus-wire.example"
FAST = FetchLimits(connect_timeout=1.0, total_timeout=2.0, max_bytes=1024 * 1024)


class ManualClock:
    """Naive-UTC time that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 27, 8, 0, 0)

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return (self.current - datetime(2026, 1, 1)).total_seconds()

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def catalog_for(feeds: list[dict[str, Any]]) -> Catalog:
    """Two regions, one English channel for each, and the given ``[[feeds]]``."""
    return parse_catalog(
        {
            "outlet": {"name": "Caucasus Wire", "site": SITE, "languages": ["en", "ru"]},
            "regions": [
                {"code": "georgia", "name": "Georgia", "keywords": ["georgia", "tbilisi*"]},
                {"code": "armenia", "name": "Armenia", "keywords": ["armenia", "yerevan*"]},
            ],
            "feeds": [{"language": "en", **feed} for feed in feeds],
            "channels": [
                {"chat": "@cw_georgia", "regions": ["georgia"], "language": "en"},
                {"chat": "@cw_armenia", "regions": ["armenia"], "language": "en"},
            ],
        }
    )


@dataclass
class Rig:
    ingestor: Ingestor
    alerts: LogAlerts
    clock: ManualClock
    catalog: Catalog


@contextlib.asynccontextmanager
async def rig(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    *,
    clock: ManualClock | None = None,
    limits: FetchLimits = FAST,
    **options: Any,
) -> AsyncIterator[Rig]:
    """An ingestor on a migrated database with the catalog's channels in place."""
    clock = clock or ManualClock()
    alerts = LogAlerts()
    async with sessions.begin() as session:
        await sync_catalog_channels(session, catalog, clock.now())
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(http, limits=limits)
        ingestor = Ingestor(catalog, sessions, fetcher, clock, alerts=alerts, **options)
        yield Rig(ingestor, alerts, clock, catalog)


async def feed_row(sessions: async_sessionmaker[AsyncSession], url: str) -> FeedRow:
    async with sessions() as session:
        row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
        assert row is not None
        return row


async def articles(sessions: async_sessionmaker[AsyncSession]) -> list[ArticleRow]:
    async with sessions() as session:
        return list(await session.scalars(select(ArticleRow).order_by(ArticleRow.id)))


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
