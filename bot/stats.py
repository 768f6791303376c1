"""Figures for the newsroom (``/stats``): audience, output, taps and Stars, over 7 and 30 days.

Queries are grouped aggregates that run the same on SQLite and PostgreSQL; the
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

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.stats_trend import Trend, collect_trend
from bot.storage.models import (
    ArticleRow,
    ChatLanguageRow,
    ChatRegionRow,
    ChatRow,
    ClickRow,
    DonationRow,
    OutboxRow,
)

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


async def subscribers(session: AsyncSession) -> Counter[tuple[str, str]]:
    """Active private subscriptions per (region, language); ``*`` = every region. A reader
    of several editions (``chat_languages``) has one per region and language."""
    readers = (ChatRow.kind == "private", ChatRow.active.is_(True))
    editions = union_all(
        select(ChatRow.id.label("chat_id"), ChatRow.language.label("language")).where(*readers),
        select(ChatLanguageRow.chat_id, ChatLanguageRow.language)
        .join(ChatRow, ChatRow.id == ChatLanguageRow.chat_id)
        .where(*readers),
    ).subquery()
    query = (
        select(ChatRegionRow.region, editions.c.language, func.count())
        .join(editions, editions.c.chat_id == ChatRegionRow.chat_id)
        .group_by(ChatRegionRow.region, editions.c.language)
    )
    return Counter({(r, lang): int(n) for r, lang, n in await session.execute(query)})


async def people(session: AsyncSession) -> int:
    """Active private readers following something: people, however many subscriptions
    (region × language) each has."""
    followers = select(ChatRegionRow.chat_id).distinct().subquery()
    query = (
        select(func.count())
        .select_from(ChatRow)
        .join(followers, followers.c.chat_id == ChatRow.id)
        .where(ChatRow.kind == "private", ChatRow.active.is_(True))
    )
    return int(await session.scalar(query) or 0)


async def active_channels(session: AsyncSession) -> int:
    query = select(func.count()).where(ChatRow.kind != "private", ChatRow.active.is_(True))
    return int(await session.scalar(query) or 0)


async def _posts_and_deliveries(session: AsyncSession, since: datetime) -> tuple[int, int]:
    posts = await session.scalar(
        select(func.count()).where(ArticleRow.announced.is_(True), ArticleRow.created_at >= since)
    )
    sent = await session.scalar(
        select(func.count()).where(
            OutboxRow.state == "sent", OutboxRow.kind == "post", OutboxRow.updated_at >= since
        )
    )
    return int(posts or 0), int(sent or 0)


async def _taps(session: AsyncSession, since: datetime) -> tuple[Counter[str], Counter[str]]:
    """Taps per region by kind; a tap on a post for two regions counts for both.

    Grouped by the stored region list first (few distinct values), split in Python.
    """
    query = (
        select(ClickRow.kind, ClickRow.regions, func.count())
        .where(ClickRow.created_at >= since)
        .group_by(ClickRow.kind, ClickRow.regions)
    )
    by_kind: dict[str, Counter[str]] = {"article": Counter(), "donate": Counter()}
    for kind, regions, n in await session.execute(query):
        counter = by_kind.setdefault(kind, Counter())
        for region in regions.split() or ["all"]:
            counter[region] += int(n)
    return by_kind["article"], by_kind["donate"]


async def _stars(session: AsyncSession, since: datetime) -> tuple[int, int]:
    query = select(func.coalesce(func.sum(DonationRow.amount), 0), func.count()).where(
        DonationRow.created_at >= since,
        DonationRow.refunded_at.is_(None),
        DonationRow.suspicious.is_(False),
        DonationRow.currency == "XTR",
    )
    total, count = (await session.execute(query)).one()
    return int(total or 0), int(count or 0)


async def collect(session: AsyncSession, now: datetime) -> Stats:
    """Every figure ``/stats`` shows, in a handful of grouped queries."""
    windows = []
    for days in WINDOWS:
        since = _since(now, days)
        posts, deliveries = await _posts_and_deliveries(session, since)
        read_more, donate = await _taps(session, since)
        stars, donations = await _stars(session, since)
        windows.append(Window(days, posts, deliveries, read_more, donate, stars, donations))
    return Stats(
        now,
        await subscribers(session),
        await active_channels(session),
        tuple(windows),
        people=await people(session),
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
