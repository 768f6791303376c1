"""The 30-day trend of ``/stats`` (and ``/metrics``): one figure per UTC day.

New readers are private chats first seen that day; lost readers are private chats that
stopped (``/stop``, or blocked the bot) that day and have not come back, read from the
chat row (a reader who returns no longer counts as lost). Deliveries are messages sent,
taps are tracked-link taps (the ``clicks`` table holds every day of the window; older days
are folded by retention), Stars are donations neither refunded nor suspicious. Each is
one grouped query in ``bot.storage.stats``, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.storage.stats import per_day

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TREND_DAYS = 30
SERIES = ("new", "lost", "deliveries", "read_more", "donate", "stars")


@dataclass(frozen=True)
class Trend:
    """Per-day figures, oldest day first; every series has one value per day."""

    days: tuple[date, ...]
    series: dict[str, tuple[int, ...]]

    def total(self, name: str) -> int:
        return sum(self.series[name])

    @property
    def empty(self) -> bool:
        return not any(any(values) for values in self.series.values())


def trend_days(now: datetime, days: int = TREND_DAYS) -> tuple[date, ...]:
    """The last ``days`` UTC days, today included, oldest first."""
    today = now.date()
    return tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))


async def collect_trend(session: AsyncSession, now: datetime, days: int = TREND_DAYS) -> Trend:
    """Every series of the trend over the last ``days`` days."""
    span = trend_days(now, days)
    since = datetime.combine(span[0], datetime.min.time())
    counts = await per_day(session, since)
    return Trend(span, {name: tuple(counts[name][d] for d in span) for name in SERIES})
