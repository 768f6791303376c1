"""Figures for the newsroom (``/stats``): audience, output, taps and Stars, over 7 and 30 days.

The queries are grouped aggregates in ``bot.storage.stats``; the
text and the charts (``bot.stats_chart``) are pure functions of the resulting
:class:`Stats`, so they are tested without a database. Readers are counted twice, apart:
people (private chats) and subscriptions (region × language); the 30-day trend is
``bot.stats_trend``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.stats_trend import Trend, collect_trend
from bot.storage import stats as figures

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

WINDOWS = (7, 30)  # days
ALL = "*"  # a destination subscribed to every region


@dataclass(frozen=True)
class Window:
    """Counts over the last ``days`` days."""

    days: int
    posts: int = 0  # articles announced
    deliveries: int = 0  # messages sent
    read_more: Counter[str] = field(default_factory=Counter)  # region -> taps
    donate: Counter[str] = field(default_factory=Counter)
    stars: int = 0
    donations: int = 0


@dataclass(frozen=True)
class Stats:
    now: datetime
    subscribers: Counter[tuple[str, str]]  # (region, language) -> subscriptions
    channels: int  # active channels and groups
    windows: tuple[Window, ...]
    people: int = 0  # active private readers following at least one region
    trend: Trend | None = None

    def window(self, days: int) -> Window:
        return next(w for w in self.windows if w.days == days)


def _since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def collect(session: AsyncSession, now: datetime) -> Stats:
    """Every figure ``/stats`` shows, in a handful of grouped queries."""
    windows = []
    for days in WINDOWS:
        since = _since(now, days)
        posts, deliveries = await figures.posts_and_deliveries(session, since)
        read_more, donate = await figures.taps(session, since)
        stars, donations = await figures.stars(session, since)
        windows.append(Window(days, posts, deliveries, read_more, donate, stars, donations))
    return Stats(
        now,
        await figures.subscribers(session),
        await figures.active_channels(session),
        tuple(windows),
        people=await figures.people(session),
        trend=await collect_trend(session, now),
    )


# --------------------------------------------------------------------------- presentation


def region_totals(stats: Stats) -> Counter[str]:
    totals: Counter[str] = Counter()
    for (region, _lang), n in stats.subscribers.items():
        totals[region] += n
    return totals


def ordered_codes(counters: Sequence[Counter[str]]) -> list[str]:
    seen: list[str] = []
    for counter in counters:
        for code, _n in counter.most_common():
            if code not in seen:
                seen.append(code)
    return seen[:12]  # more bars than this would not be readable on a phone
