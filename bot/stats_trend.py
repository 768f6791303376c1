"""The 30-day trend of ``/stats`` (and ``/metrics``): one figure per UTC day.

New readers are private chats first seen that day; lost readers are private chats that
stopped (``/stop``, or blocked the bot) that day and have not come back, read from the
chat row (a reader who returns no longer counts as lost). Deliveries are messages sent,
taps are tracked-link taps (the ``clicks`` table holds every day of the window; older days
are folded by retention), Stars are donations neither refunded nor suspicious. Each is
one grouped query, the same on SQLite and PostgreSQL (``date()`` of a timestamp).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ChatRow, ClickRow, DonationRow, OutboxRow

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


def _day(value: object) -> date:
    """A ``date()`` result: a date on PostgreSQL, ``'YYYY-MM-DD'`` on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def _per_day(session: AsyncSession, query: Select[Any]) -> Counter[date]:
    return Counter({_day(day): int(n or 0) for day, n in await session.execute(query)})


def _daily(column: Any, value: ColumnElement[Any], *where: ColumnElement[bool]) -> Select[Any]:
    day = func.date(column)
    return select(day, value).where(*where).group_by(day)


async def collect_trend(session: AsyncSession, now: datetime, days: int = TREND_DAYS) -> Trend:
    """Every series of the trend over the last ``days`` days."""
    span = trend_days(now, days)
    since = datetime.combine(span[0], datetime.min.time())
    private = ChatRow.kind == "private"
    counts = {
        "new": await _per_day(
            session, _daily(ChatRow.created_at, func.count(), private, ChatRow.created_at >= since)
        ),
        "lost": await _per_day(
            session,
            _daily(
                ChatRow.updated_at,
                func.count(),
                private,
                ChatRow.active.is_(False),
                ChatRow.updated_at >= since,
            ),
        ),
        "deliveries": await _per_day(
            session,
            _daily(
                OutboxRow.updated_at,
                func.count(),
                OutboxRow.state == "sent",
                OutboxRow.updated_at >= since,
            ),
        ),
        "stars": await _per_day(
            session,
            _daily(
                DonationRow.created_at,
                func.sum(DonationRow.amount),
                DonationRow.created_at >= since,
                DonationRow.refunded_at.is_(None),
                DonationRow.suspicious.is_(False),
                DonationRow.currency == "XTR",
            ),
        ),
    }
    taps = select(ClickRow.day, ClickRow.kind, func.count()).where(ClickRow.day >= span[0])
    counts["read_more"], counts["donate"] = Counter(), Counter()
    for day, kind, n in await session.execute(taps.group_by(ClickRow.day, ClickRow.kind)):
        key = "read_more" if kind == "article" else "donate"
        counts[key][_day(day)] += int(n)
    return Trend(span, {name: tuple(counts[name][d] for d in span) for name in SERIES})
