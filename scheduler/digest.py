"""The daily digest: one message per due subscriber, listing the day's articles.

A subscriber in digest mode is due once their local digest time has passed since
their last digest. Their digest lists the articles of the last day (at most since the
previous digest) in their regions, grouped by region, leaving out what they already
received one by one; a story once, in the first of their languages that has it, and only
what matches their topics and keywords (``scheduler.digest_pick``); it is split into
several messages, between whole blocks, when it is longer than Telegram allows. A day
without news sends nothing, unless the reader asked for the digest on such days too (it
then says so). The day's digest is claimed and its messages queued in one transaction,
as ``digest`` rows of the outbox (``bot.outbox.kinds``): the sender sends them like posts,
paced, retried after a 429, its reader deactivated on a 403, exactly once where Telegram
lets us know.

It ends with the few most-read articles of the cached list (``MostReadStore``) for
the reader's regions (and outlet-wide ones, as above), a different view of the same
days. When there is no real list (source ``latest``, or none cached yet) the block is
left out: the newest articles are what the digest already lists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.catalog import Catalog
from bot.clock import Clock
from bot.i18n import Translator
from bot.localtime import last_digest_time, to_local
from bot.mostread import MostReadItem, MostReadStore
from bot.outbox.kinds import DIGEST
from bot.outbox.render import render_list, split_html_blocks
from bot.storage.articles import article_topics
from bot.storage.chats import ALL_REGIONS, chat_region_codes
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.digests import Subscriber, claim_digest, day_articles, digest_subscribers
from bot.storage.failures import log_failure
from bot.storage.follows import chat_follows
from bot.storage.models import ArticleRow
from scheduler.digest_pick import Interests, pick
from scheduler.per_chat import queue_each

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

EVERY_SECONDS = 120.0
WINDOW = timedelta(days=1)
MAX_ARTICLES = 300
ITEMS_PER_BLOCK = 15
MOSTREAD_ITEMS = 3

__all__ = ["DigestJob", "Subscriber", "digest_jobs", "for_reader", "is_due"]


def is_due(sub: Subscriber, now: datetime) -> bool:
    """Due when the latest scheduled digest moment is after the last digest sent."""
    slot = last_digest_time(now, sub.timezone, sub.digest_minute)
    return sub.last_digest_at is None or sub.last_digest_at < slot


def for_reader(items: Sequence[MostReadItem], regions: Sequence[str]) -> list[MostReadItem]:
    """Most-read items of the reader's regions, plus those of no region (outlet-wide, or
    not known as an article), like the digest's own outlet-wide group."""
    wanted = set(regions)
    if not wanted or ALL_REGIONS in wanted:
        return list(items)
    return [i for i in items if not i.regions or wanted.intersection(i.regions)]


class DigestJob:
    def __init__(
        self,
        catalog: Catalog,
        translator: Translator,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        mostread: MostReadStore | None = None,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.tr = translator
        self.sessions = sessions
        self.clock = clock
        self.mostread = mostread
        self.on_enqueued = on_enqueued  # wakes the sender

    async def run(self) -> int:
        """Queue every due digest; returns how many subscribers got one."""
        now = self.clock.now()
        return await queue_each(
            await self.due(now),
            lambda sub: self.deliver(sub, now),
            log=log,
            what="digest",
            on_enqueued=self.on_enqueued,
        )

    async def due(self, now: datetime) -> list[Subscriber]:
        async with self.sessions() as session:
            subs = await digest_subscribers(session)
        return [sub for sub in subs if is_due(sub, now)]

    async def articles(
        self, session: AsyncSession, sub: Subscriber, now: datetime
    ) -> list[ArticleRow]:
        """The day's articles for the reader (``scheduler.digest_pick``: each story once,
        in their first language that has it, not already received, matching their topics
        and keywords); ``regions`` are applied by :meth:`group`."""
        interests = await self.interests(session, sub)
        since = max(sub.last_digest_at or now - WINDOW, now - WINDOW)
        articles, got = await day_articles(
            session, sub.pk, interests.languages, since, now, MAX_ARTICLES
        )
        topics = await article_topics(session, [a.id for a in articles])
        return pick(articles, got, interests, topics)

    async def interests(self, session: AsyncSession, sub: Subscriber) -> Interests:
        """The reader's languages in order, topics the catalog still lists, keywords."""
        follows = await chat_follows(session, sub.pk)
        known = {t.code for t in self.catalog.topics}
        return Interests(
            languages=(sub.language, *follows.languages),
            topics=frozenset(t for t in follows.topics if t in known),
            keywords=frozenset(term for term, _ in follows.keywords),
        )

    def group(
        self, regions: Sequence[str], articles: Sequence[ArticleRow]
    ) -> list[tuple[str, list[ArticleRow]]]:
        """Articles under the first of the reader's regions they belong to, catalog order.

        For readers of every region, all articles go under the region they name first, or
        under the outlet's name; so do articles without a region (outlet-wide) when
        ``[outlet] unmatched = "all"``, else only readers of every region get those.
        """
        order = [r.code for r in self.catalog.regions]
        wanted = set(regions)
        every = ALL_REGIONS in wanted
        outlet_wide = self.catalog.outlet.unmatched == "all"
        groups: dict[str, list[ArticleRow]] = {}
        for article in articles:
            codes = article.region_codes
            mine = [c for c in order if c in codes and (every or c in wanted)]
            if mine:
                groups.setdefault(mine[0], []).append(article)
            elif every or (outlet_wide and not codes):
                groups.setdefault("", []).append(article)
        ranked = sorted(
            groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
        )
        return ranked

    async def most_read(self, sub: Subscriber, regions: Sequence[str]) -> list[MostReadItem]:
        """The top few of the cached most-read list for the reader's regions.

        Empty without a store or a real list; a failing read costs the block, not the digest.
        """
        if self.mostread is None:
            return []
        try:
            top = await self.mostread.top(sub.language)
        except Exception as exc:
            log_failure(log, exc, "most-read list for the digest of chat %s failed", sub.address)
            return []
        if top.source == "latest":
            return []
        return for_reader(top.items, regions)[:MOSTREAD_ITEMS]

    def most_read_block(self, lang: str, items: Sequence[MostReadItem]) -> str:
        """The closing block, within one message; empty when no item survives rendering."""
        heading = self.tr.gettext(lang, "digest.mostread_heading")
        block = render_list(heading=heading, items=[(i.title, i.url, ()) for i in items])
        return "" if block == heading.strip() else block

    def render(
        self,
        sub: Subscriber,
        now: datetime,
        groups: Sequence[tuple[str, list[ArticleRow]]],
        most_read: Sequence[MostReadItem] = (),
    ) -> list[str]:
        lang = sub.language
        closing = self.most_read_block(lang, most_read) if most_read else ""
        count = sum(len(items) for _, items in groups)
        if count == 0:
            return split_html_blocks([self.tr.gettext(lang, "digest.empty"), closing])
        local_day = to_local(now, sub.timezone).date()
        blocks = [self.tr.ngettext(lang, "digest.heading", count, date=local_day)]
        for code, items in groups:
            name = self.catalog.region_name(code, lang) if code else self.catalog.outlet.name
            heading = self.tr.gettext(lang, "digest.region_heading", region=name)
            for start in range(0, len(items), ITEMS_PER_BLOCK):
                part = items[start : start + ITEMS_PER_BLOCK]
                blocks.append(
                    render_list(heading=heading, items=[(a.title, a.url, ()) for a in part])
                )
        return split_html_blocks([*blocks, closing])

    async def deliver(self, sub: Subscriber, now: datetime) -> bool:
        """Claim the reader's day and queue its digest, in one transaction (another
        process that claimed it first wins; a failure leaves the day unclaimed)."""
        async with self.sessions() as session:
            regions = await chat_region_codes(session, sub.pk)
        top = await self.most_read(sub, regions)
        async with self.sessions.begin() as session:
            if not await claim_digest(session, sub.pk, sub.last_digest_at, now):
                return False  # another process took it
            articles = await self.articles(session, sub, now)
            groups = self.group(regions, articles)
            if not sub.when_empty and not any(items for _, items in groups):
                log.debug("no news for the digest of chat %s: none sent", sub.address)
                return False  # the day is marked done all the same: no retry every tick
            messages = self.render(sub, now, groups, top)
            await enqueue_texts(session, sub.pk, DIGEST, messages, now)
        return True


def digest_jobs(
    catalog: Catalog,
    translator: Translator,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    enabled: bool,
    mostread: MostReadStore | None = None,
    on_enqueued: Callable[[], None] | None = None,
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entry for ``build_scheduler(extra=...)``; none when not ``enabled``
    (a dry run has no readers to send digests to)."""
    if not enabled:
        return []
    job = DigestJob(
        catalog, translator, sessions, clock, mostread=mostread, on_enqueued=on_enqueued
    )
    return [("digest", EVERY_SECONDS, job.run)]
