"""The operators' figures (``/stats``, ``/metrics``): grouped counts over chats, articles,
deliveries, taps and Stars.

Each figure is one grouped query that runs the same on SQLite and PostgreSQL; what they
mean and how they are shown is ``bot.stats`` and ``bot.stats_trend``. Readers are counted
twice, apart: people (private chats) and subscriptions (region × language).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    ArticleRow,
    ChatLanguageRow,
    ChatRegionRow,
    ChatRow,
    ClickRow,
    DonationRow,
    OutboxRow,
    not_pending,
)

_READERS = (ChatRow.kind == "private", ChatRow.active.is_(True))


def _stars_counted(since: datetime) -> tuple[ColumnElement[bool], ...]:
    """Donations in Stars since ``since``, neither refunded nor suspicious."""
    return (
        DonationRow.created_at >= since,
        DonationRow.refunded_at.is_(None),
        DonationRow.suspicious.is_(False),
        DonationRow.currency == "XTR",
    )


async def subscribers(session: AsyncSession) -> Counter[tuple[str, str]]:
    """Active private subscriptions per (region, language); ``*`` = every region. A reader
    of several editions (``chat_languages``) has one per region and language."""
    editions = union_all(
        select(ChatRow.id.label("chat_id"), ChatRow.language.label("language")).where(*_READERS),
        select(ChatLanguageRow.chat_id, ChatLanguageRow.language)
        .join(ChatRow, ChatRow.id == ChatLanguageRow.chat_id)
        .where(*_READERS),
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
        .where(*_READERS)
    )
    return int(await session.scalar(query) or 0)


async def active_channels(session: AsyncSession) -> int:
    query = select(func.count()).where(ChatRow.kind != "private", ChatRow.active.is_(True))
    return int(await session.scalar(query) or 0)


async def posts_and_deliveries(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """Articles announced and posts sent since ``since``."""
    posts = await session.scalar(
        select(func.count()).where(ArticleRow.announced.is_(True), ArticleRow.created_at >= since)
    )
    sent = await session.scalar(
        select(func.count()).where(
            OutboxRow.state == "sent",
            not_pending(),
            OutboxRow.kind == "post",
            OutboxRow.updated_at >= since,
        )
    )
    return int(posts or 0), int(sent or 0)


async def taps(session: AsyncSession, since: datetime) -> tuple[Counter[str], Counter[str]]:
    """ "Read more" and "Donate" taps per region since ``since``; a tap on a post for two
    regions counts for both.

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


async def stars(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """Stars donated since ``since`` and the number of donations."""
    query = select(func.coalesce(func.sum(DonationRow.amount), 0), func.count()).where(
        *_stars_counted(since)
    )
    total, count = (await session.execute(query)).one()
    return int(total or 0), int(count or 0)


# --------------------------------------------------------------------------- per UTC day


def _day(value: object) -> date:
    """A ``date()`` result: a date on PostgreSQL, ``'YYYY-MM-DD'`` on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def _per_day(session: AsyncSession, query: Select[Any]) -> Counter[date]:
    return Counter({_day(day): int(n or 0) for day, n in await session.execute(query)})


def _daily(column: Any, value: ColumnElement[Any], *where: ColumnElement[bool]) -> Select[Any]:
    day = func.date(column)
    return select(day, value).where(*where).group_by(day)


async def per_day(session: AsyncSession, since: datetime) -> dict[str, Counter[date]]:
    """Each series of the trend per UTC day since ``since`` (midnight): private chats new
    and lost (stopped or blocked that day, not back since), posts and other messages sent,
    Stars, and "read_more" and "donate" taps."""
    private = ChatRow.kind == "private"
    lost = (private, ChatRow.active.is_(False), ChatRow.updated_at >= since)
    sent = (OutboxRow.state == "sent", not_pending(), OutboxRow.updated_at >= since)
    counts = {
        "new": await _per_day(
            session, _daily(ChatRow.created_at, func.count(), private, ChatRow.created_at >= since)
        ),
        "lost": await _per_day(session, _daily(ChatRow.updated_at, func.count(), *lost)),
        "deliveries": await _per_day(session, _daily(OutboxRow.updated_at, func.count(), *sent)),
        "stars": await _per_day(
            session,
            _daily(DonationRow.created_at, func.sum(DonationRow.amount), *_stars_counted(since)),
        ),
    }
    counts["read_more"], counts["donate"] = await _taps_per_day(session, since.date())
    return counts


async def _taps_per_day(session: AsyncSession, first: date) -> tuple[Counter[date], Counter[date]]:
    """ "Read more" and "Donate" taps per day from ``first`` (the ``clicks`` table keeps a
    day column: every day of the trend's window is there, older days folded)."""
    query = select(ClickRow.day, ClickRow.kind, func.count()).where(ClickRow.day >= first)
    read_more: Counter[date] = Counter()
    donate: Counter[date] = Counter()
    for day, kind, n in await session.execute(query.group_by(ClickRow.day, ClickRow.kind)):
        (read_more if kind == "article" else donate)[_day(day)] += int(n)
    return read_more, donate
