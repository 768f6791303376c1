"""The ``/stats`` figures in Prometheus form: readers (people) and subscriptions apart,
active channels and groups, and the 30-day totals of the trend.

Read from the database when ``/metrics`` is scraped, at most once a minute (they are a
handful of grouped queries over the stats tables, and change slowly), so a scraper
polling every few seconds costs nothing more. Gauges, not counters: they are counts of
what the database holds now (a reader who comes back leaves the "left" total).
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from bot.stats import ALL
from bot.stats_trend import TREND_DAYS, collect_trend
from bot.storage.stats import active_channels, people, subscribers

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Trend series -> the ``figure`` label in ``newsbot_last_30_days``.
FIGURES = {
    "new": "new_readers",
    "lost": "readers_left",
    "deliveries": "messages_delivered",
    "read_more": "read_more_taps",
    "donate": "donate_taps",
    "stars": "stars",
}


class AudienceMetrics:
    """Audience gauges on one registry, refreshed from the database on scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.readers = Gauge(
            "newsbot_readers",
            "People who follow at least one region in private chat (active)",
            registry=registry,
        )
        self.subscriptions = Gauge(
            "newsbot_subscriptions",
            "Private subscriptions (one per region and language a reader follows; region "
            '"all" for every region)',
            ["region", "language"],
            registry=registry,
        )
        self.channels = Gauge(
            "newsbot_channels",
            "Active channels and groups (forum topics count one each)",
            registry=registry,
        )
        self.trend = Gauge(
            f"newsbot_last_{TREND_DAYS}_days",
            f"Totals over the last {TREND_DAYS} UTC days, as /stats charts them: new_readers, "
            "readers_left (and not back), messages_delivered, read_more_taps, donate_taps, "
            "stars",
            ["figure"],
            registry=registry,
        )
        self._seen: set[tuple[str, str]] = set()
        self._read: tuple[object, float] | None = None

    async def refresh(
        self, sessions: async_sessionmaker[AsyncSession], max_age: float = 60.0
    ) -> None:
        """Read every gauge unless they were read from the same database within ``max_age``."""
        now = time.monotonic()
        if self._read is not None and self._read[0] is sessions and now - self._read[1] < max_age:
            return
        wall = datetime.now(UTC).replace(tzinfo=None)
        async with sessions() as session:
            readers = await people(session)
            counts = await subscribers(session)
            channels = await active_channels(session)
            trend = await collect_trend(session, wall)
        self._read = (sessions, now)
        self.readers.set(readers)
        self.channels.set(channels)
        seen = set()
        for (region, language), n in counts.items():
            key = ("all" if region == ALL else region, language)
            seen.add(key)
            self.subscriptions.labels(region=key[0], language=key[1]).set(n)
        for region, language in self._seen - seen:  # emptied: 0, not a stale number
            self.subscriptions.labels(region=region, language=language).set(0)
        self._seen |= seen
        for series, figure in FIGURES.items():
            self.trend.labels(figure=figure).set(trend.total(series))


@functools.cache
def shared_audience_metrics() -> AudienceMetrics:
    """The process-wide audience gauges on the global registry (created once)."""
    return AudienceMetrics(REGISTRY)
