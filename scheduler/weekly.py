"""The weekly most-read post: the week's list, once a week, to the chats that opted in.

It goes to the chats that opted in (``chats.weekly_mostread``) on Monday at the chat's
digest time in its time zone, at most once a week: the week is claimed and the list
queued as a ``weekly`` outbox row in one transaction, and the sender sends it like a
post (``bot.outbox.kinds``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.catalog import Catalog
from bot.clock import Clock
from bot.i18n import Translator
from bot.localtime import at_minute, to_local
from bot.mostread import MostReadItem, MostReadStore
from bot.outbox.kinds import WEEKLY
from bot.outbox.render import render_list
from bot.storage.chats import ALL_REGIONS, chat_region_codes
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.digests import WeeklyReader, claim_weekly, weekly_readers
from scheduler.jobs import Job
from scheduler.per_chat import queue_each

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


WEEKLY_WEEKDAY = 0  # Monday, at the chat's digest time in its time zone
WEEKLY_CHECK_SECONDS = 300.0
__all__ = [
    "WeeklyMostRead",
    "WeeklyReader",
    "for_regions",
    "last_weekly_time",
    "weekly_due",
    "weekly_jobs",
]


def last_weekly_time(now: datetime, tz: str | None, minute: int, weekday: int) -> datetime:
    """The latest scheduled weekly moment at or before ``now`` (naive UTC)."""
    local = to_local(now, tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = at_minute(day, minute, tz)
    return slot if slot <= now else at_minute(day - timedelta(days=7), minute, tz)


def weekly_due(reader: WeeklyReader, now: datetime, weekday: int = WEEKLY_WEEKDAY) -> bool:
    """Due once per weekly slot; a chat that never had one waits for a slot of the last
    day rather than getting one at once and another a few hours later."""
    slot = last_weekly_time(now, reader.timezone, reader.minute, weekday)
    if reader.last_weekly_at is None:
        return now - slot <= timedelta(days=1)
    return reader.last_weekly_at < slot


def for_regions(items: Sequence[MostReadItem], regions: set[str]) -> list[MostReadItem]:
    """The items a destination of ``regions`` wants; ``*`` (or none) means every region."""
    if not regions or ALL_REGIONS in regions:
        return list(items)
    return [i for i in items if regions.intersection(i.regions)]


class WeeklyMostRead:
    """The week's most-read list, once a week, to the chats that opted in."""

    def __init__(
        self,
        catalog: Catalog,
        translator: Translator,
        sessions: async_sessionmaker[AsyncSession],
        store: MostReadStore,
        clock: Clock,
        *,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.tr = translator
        self.sessions = sessions
        self.store = store
        self.clock = clock
        self.on_enqueued = on_enqueued  # wakes the sender

    async def run(self) -> int:
        """Queue every due weekly post; returns how many chats got one."""
        now = self.clock.now()
        return await queue_each(
            await self.due(now),
            lambda reader: self.deliver(reader, now),
            log=log,
            what="weekly most-read",
            on_enqueued=self.on_enqueued,
        )

    async def due(self, now: datetime) -> list[WeeklyReader]:
        async with self.sessions() as session:
            readers = await weekly_readers(session)
        return [r for r in readers if weekly_due(r, now)]

    async def deliver(self, reader: WeeklyReader, now: datetime) -> bool:
        """Claim this week's post and queue it, in one transaction (at most once, like
        every post; a failure leaves the week unclaimed)."""
        async with self.sessions() as session:
            regions = set(await chat_region_codes(session, reader.pk))
        top = await self.store.top(reader.language)
        items = for_regions(top.items, regions)
        async with self.sessions.begin() as session:
            if not await claim_weekly(session, reader.pk, reader.last_weekly_at, now):
                return False  # another process took it
            if not items:
                log.info("weekly most-read: nothing for chat %s this week", reader.address)
                return False
            await enqueue_texts(session, reader.pk, WEEKLY, [self.render(reader, items)], now)
        return True

    def render(self, reader: WeeklyReader, items: Sequence[MostReadItem]) -> str:
        return render_list(
            heading=self.tr.gettext(
                reader.language, "mostread.heading", outlet=self.catalog.outlet.name
            ),
            items=[
                (i.title, i.url, [self.catalog.region_name(c, reader.language) for c in i.regions])
                for i in items
            ],
        )


def weekly_jobs(
    catalog: Catalog,
    translator: Translator,
    sessions: async_sessionmaker[AsyncSession],
    store: MostReadStore,
    clock: Clock,
    *,
    enabled: bool,
    on_enqueued: Callable[[], None] | None = None,
) -> list[Job]:
    """The scheduler entry for ``build_scheduler(extra=...)``; none when not ``enabled``
    (a dry run)."""
    if not enabled:
        return []
    job = WeeklyMostRead(catalog, translator, sessions, store, clock, on_enqueued=on_enqueued)
    return [("weekly-mostread", WEEKLY_CHECK_SECONDS, job.run)]
