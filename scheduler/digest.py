"""The daily digest: one message per due subscriber, listing the day's articles.

A subscriber in digest mode is due once their local digest time has passed since
their last digest. Their digest lists the articles of the last day (at most since the
previous digest) in their language and regions, grouped by region, leaving out what
they already received one by one; it is split into several messages, between whole
blocks, when it is longer than Telegram allows. A day without news sends nothing, unless
the reader asked for the digest on such days too (it then says so). The digest is marked
as sent before it is sent (at most once, as for posts: DESIGN.md decision 2), and sent
through the bot's shared rate limiter, so it paces itself like any reply.

It ends with the few most-read articles of the cached list (``MostReadStore``) for
the reader's regions (and outlet-wide ones, as above), a different view of the same
days. When there is no real list (source ``latest``, or none cached yet) the block is
left out: the newest articles are what the digest already lists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.catalog import Catalog
from bot.clock import Clock
from bot.i18n import Translator
from bot.localtime import last_digest_time, to_local
from bot.mostread import MostReadItem, MostReadStore
from bot.render import render_list, split_html_blocks
from bot.storage.models import ArticleRow, ChatRegionRow, ChatRow, OutboxRow
from bot.storage.repo import ALL_REGIONS

log = logging.getLogger(__name__)

EVERY_SECONDS = 120.0
WINDOW = timedelta(days=1)
MAX_ARTICLES = 300
ITEMS_PER_BLOCK = 15
MOSTREAD_ITEMS = 3
RECEIVED = ("sent", "inflight", "unknown", "claimed")

Send = Callable[[str, str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Subscriber:
    pk: int
    address: str
    language: str
    timezone: str
    digest_minute: int
    last_digest_at: datetime | None
    when_empty: bool = False  # also on days without news (the reader asked for it)


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


def bot_sender(bot: Bot) -> Send:
    """Send through PTB: the shared limiter paces it per chat and within the global budget."""

    async def send(address: str, text: str) -> None:
        chat: int | str = int(address) if address.lstrip("-").isdigit() else address
        await bot.send_message(
            chat,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    return send


class DigestJob:
    def __init__(
        self,
        catalog: Catalog,
        translator: Translator,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        send: Send,
        *,
        mostread: MostReadStore | None = None,
    ) -> None:
        self.catalog = catalog
        self.tr = translator
        self.sessions = sessions
        self.clock = clock
        self.send = send
        self.mostread = mostread

    async def run(self) -> int:
        """Send every due digest; returns how many subscribers got one."""
        now = self.clock.now()
        sent = 0
        for sub in await self.due(now):
            try:
                if await self.deliver(sub, now):
                    sent += 1
            except Exception:  # one reader's failure never stops the others
                log.exception("digest for chat %s failed", sub.address)
        return sent

    async def due(self, now: datetime) -> list[Subscriber]:
        query = select(
            ChatRow.id,
            ChatRow.address,
            ChatRow.language,
            ChatRow.timezone,
            ChatRow.digest_minute,
            ChatRow.last_digest_at,
            ChatRow.digest_when_empty,
        ).where(
            ChatRow.kind == "private",
            ChatRow.active == true(),
            ChatRow.paused.is_(False),
            ChatRow.mode == "digest",
        )
        async with self.sessions() as session:
            result = await session.stream(query.execution_options(yield_per=1000))
            subs = [Subscriber(*row) async for row in result]
        return [sub for sub in subs if is_due(sub, now)]

    async def articles(
        self, session: AsyncSession, sub: Subscriber, now: datetime
    ) -> tuple[list[str], list[ArticleRow]]:
        since = max(sub.last_digest_at or now - WINDOW, now - WINDOW)
        regions = list(
            await session.scalars(
                select(ChatRegionRow.region).where(ChatRegionRow.chat_id == sub.pk)
            )
        )
        received = exists().where(
            OutboxRow.article_id == ArticleRow.id,
            OutboxRow.chat_id == sub.pk,
            OutboxRow.state.in_(RECEIVED),
        )
        query = (
            select(ArticleRow)
            .where(
                ArticleRow.language == sub.language,
                ArticleRow.created_at > since,
                ArticleRow.created_at <= now,
                ArticleRow.announced == true(),
                ~received,
            )
            .order_by(ArticleRow.created_at, ArticleRow.id)
            .limit(MAX_ARTICLES)
        )
        return regions, list(await session.scalars(query))

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
        except Exception:
            log.exception("most-read list for the digest of chat %s failed", sub.address)
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
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(ChatRow)
                .where(
                    ChatRow.id == sub.pk,
                    ChatRow.last_digest_at.is_not_distinct_from(sub.last_digest_at),
                )
                .values(last_digest_at=now)
                .execution_options(synchronize_session=False)
            )
            if not int(getattr(claimed, "rowcount", 0) or 0):
                return False  # another process took it
            regions, articles = await self.articles(session, sub, now)
        groups = self.group(regions, articles)
        if not sub.when_empty and not any(items for _, items in groups):
            log.debug("no news for the digest of chat %s: none sent", sub.address)
            return False  # the day is marked done all the same: no retry every tick
        top = await self.most_read(sub, regions)
        messages = self.render(sub, now, groups, top)
        for text in messages:
            try:
                await self.send(sub.address, text)
            except Forbidden as exc:
                log.info("digest reader %s is gone: %s", sub.address, exc)
                await self.deactivate(sub.pk, now)
                return False
            except TelegramError as exc:
                log.warning("digest to %s failed: %s", sub.address, exc)
                return False
        return True

    async def deactivate(self, pk: int, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(ChatRow).where(ChatRow.id == pk).values(active=False, updated_at=now)
            )


def digest_jobs(
    catalog: Catalog,
    translator: Translator,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    bot: Bot | None,
    mostread: MostReadStore | None = None,
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entry for ``build_scheduler(extra=...)``; none without a bot (dry run)."""
    if bot is None:
        return []
    job = DigestJob(catalog, translator, sessions, clock, bot_sender(bot), mostread=mostread)
    return [("digest", EVERY_SECONDS, job.run)]
