"""The weekly most-read post: the week's list, once a week, to the chats that opted in.

It goes to the chats that opted in (``chats.weekly_mostread``) on Monday at the chat's
digest time in its time zone, at most once a week: the week is claimed and the list
queued as a ``weekly`` outbox row in one transaction, and the sender sends it like a
post (``bot.outbox.kinds``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.clock import Clock
from bot.i18n import Translator
from bot.localtime import at_minute, to_local
from bot.mostread import MostReadItem, MostReadStore
from bot.outbox.kinds import WEEKLY
from bot.outbox.render import render_list
from bot.storage.chats import ALL_REGIONS
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.failures import log_failure
from bot.storage.models import ChatRegionRow, ChatRow
from scheduler.jobs import Job

log = logging.getLogger(__name__)


WEEKLY_WEEKDAY = 0  # Monday, at the chat's digest time in its time zone
WEEKLY_CHECK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class WeeklyReader:
    pk: int
    address: str
    thread_id: int
    language: str
    timezone: str
    minute: int
    last_weekly_at: datetime | None


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
        queued = 0
        for reader in await self.due(now):
            try:
                queued += int(await self.deliver(reader, now))
            except Exception as exc:  # one chat's failure never stops the others
                log_failure(log, exc, "weekly most-read for chat %s failed", reader.address)
        if queued and self.on_enqueued is not None:
            self.on_enqueued()
        return queued

    async def due(self, now: datetime) -> list[WeeklyReader]:
        query = select(
            ChatRow.id,
            ChatRow.address,
            ChatRow.thread_id,
            ChatRow.language,
            ChatRow.timezone,
            ChatRow.digest_minute,
            ChatRow.last_weekly_at,
        ).where(
            ChatRow.weekly_mostread.is_(True),
            ChatRow.active.is_(True),
            ChatRow.paused.is_(False),
        )
        async with self.sessions() as session:
            result = await session.stream(query.execution_options(yield_per=1000))
            readers = [WeeklyReader(*row) async for row in result]
        return [r for r in readers if weekly_due(r, now)]

    async def deliver(self, reader: WeeklyReader, now: datetime) -> bool:
        """Claim this week's post and queue it, in one transaction (at most once, like
        every post; a failure leaves the week unclaimed)."""
        async with self.sessions() as session:
            regions = set(
                await session.scalars(
                    select(ChatRegionRow.region).where(ChatRegionRow.chat_id == reader.pk)
                )
            )
        top = await self.store.top(reader.language)
        items = for_regions(top.items, regions)
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(ChatRow)
                .where(
                    ChatRow.id == reader.pk,
                    ChatRow.last_weekly_at.is_not_distinct_from(reader.last_weekly_at),
                )
                .values(last_weekly_at=now)
                .execution_options(synchronize_session=False)
            )
            if not int(getattr(claimed, "rowcount", 0) or 0):
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
