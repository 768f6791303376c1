"""Refreshing the most-read cache from the catalog's source, on the scheduler.

Sources (``[mostread] source``), each per language:

- ``wordpress-popular-posts``: the plugin's REST API (a JSON list of posts with
  ``title.rendered`` and ``link``);
- ``html``: a page whose "Most read" block holds the links; ``selector`` picks the
  block (or the links themselves) with CSS;
- ``clicks``: the bot's own tracked Read-more taps over the last 7 days, ranked by
  distinct readers;
- ``latest``: nothing to refresh (the store serves the newest articles).

Languages refresh concurrently, so one slow site does not hold up the others.
A failing source keeps the last good list and records the error for operators;
replies never wait for any of this (they read the cache).

The weekly most-read post (``WeeklyMostRead``) goes to the chats that opted in
(``chats.weekly_mostread``) on Monday at the chat's digest time in its time
zone, at most once a week: the week is claimed and the list queued as a ``weekly``
outbox row in one transaction, and the sender sends it like a post (``bot.outbox.kinds``).
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import SelectorError
from lxml import etree
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.clock import Clock
from bot.i18n import Translator
from bot.links import pack_url, unpack_url
from bot.localtime import at_minute, to_local
from bot.mostread import MostReadItem, MostReadStore
from bot.outbox.kinds import WEEKLY, enqueue_texts
from bot.outbox.render import render_list
from bot.storage.chats import ALL_REGIONS
from bot.storage.failures import log_failure
from bot.storage.models import ArticleRow, ChatRegionRow, ChatRow, ClickRow, MostReadRow
from bot.text.html import html_to_text
from scheduler.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)

CLICK_WINDOW = timedelta(days=7)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_SPACES = re.compile(r"\s+")
_CHARSET = re.compile(r"charset\s*=\s*([\w.:\"'-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)


def parse_popular_posts(body: bytes, limit: int) -> list[MostReadItem]:
    """Items from a WordPress Popular Posts (or WP REST posts) JSON answer."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of posts")
    items: list[MostReadItem] = []
    for post in data:
        if not isinstance(post, dict):
            continue
        title = post.get("title")
        if isinstance(title, dict):
            title = title.get("rendered")
        link = post.get("link") or post.get("url")
        if (
            isinstance(title, str)
            and isinstance(link, str)
            and link.startswith(("http://", "https://"))
        ):
            items.append(MostReadItem(html_to_text(title), link))
        if len(items) >= limit:
            break
    return items


def parse_html_block(
    body: bytes, page_url: str, selector: str, limit: int, *, content_type: str = ""
) -> list[MostReadItem]:
    """Linked titles inside the CSS ``selector`` of a page, in page order.

    The selector may name the links (``.most-read a``) or their container
    (``.most-read``); relative links are resolved against the page, links to
    other schemes or without text are skipped, and a URL is listed once.
    Raises ValueError for an invalid selector or an unreadable page.
    """
    try:
        parser = lxml.html.HTMLParser(encoding=html_encoding(body, content_type))
        doc = lxml.html.document_fromstring(body, parser=parser)
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise ValueError(f"unreadable HTML: {exc}") from None
    try:
        matched = doc.cssselect(selector)
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None
    base = _base_url(doc, page_url)
    items: list[MostReadItem] = []
    seen: set[str] = set()
    for element in matched:
        anchors = [element] if element.tag == "a" else element.iter("a")
        for anchor in anchors:
            item = _link_item(anchor, base)
            if item is None or item.url in seen:
                continue
            seen.add(item.url)
            items.append(item)
            if len(items) >= limit:
                return items
    return items


def html_encoding(body: bytes, content_type: str) -> str | None:
    """The page's encoding: the HTTP charset, else the page's own ``<meta>`` (lxml reads
    it when given None), else UTF-8 rather than lxml's Latin-1 default."""
    match = _CHARSET.search(content_type)
    if match:
        name = match.group(1).strip("\"'").lower()
        try:
            return codecs.lookup(name).name
        except LookupError:
            log.info("most-read page: unknown charset %r, reading it as UTF-8", name)
            return "utf-8"
    if _META_CHARSET.search(body[:4096]):
        return None
    return "utf-8"


def _base_url(doc: lxml.html.HtmlElement, page_url: str) -> str:
    bases = doc.xpath("//base/@href")
    return urljoin(page_url, str(bases[0]).strip()) if bases else page_url


def _link_item(anchor: lxml.html.HtmlElement, base: str) -> MostReadItem | None:
    href = (anchor.get("href") or "").strip()
    if not href or href.startswith("#"):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    title = _SPACES.sub(" ", anchor.text_content()).strip() or (anchor.get("title") or "").strip()
    if not title:
        return None
    return MostReadItem(title[:300], url)


async def ranked_by_clicks(
    session: AsyncSession, language: str, since: datetime, limit: int
) -> list[MostReadItem]:
    """Articles of ``language`` by distinct readers who tapped Read more since ``since``.

    A click row is already unique per reader and day; counting distinct readers
    makes one reader tapping every day count once. Ties go to the newer tap.
    Only URLs of known articles are listed (their titles come from the articles).
    """
    readers = func.count(func.distinct(ClickRow.reader))
    ranking = (
        select(ClickRow.url, readers.label("readers"), func.max(ClickRow.created_at))
        .where(
            ClickRow.kind == "article",
            ClickRow.language == language,
            ClickRow.created_at >= since,
        )
        .group_by(ClickRow.url)
        .order_by(readers.desc(), func.max(ClickRow.created_at).desc())
        .limit(limit * 3)
    )
    urls = [url for url, _count, _last in await session.execute(ranking)]
    if not urls:
        return []
    # A tracked link carries the URL as an ASCII URI; the article may store it as an IRI.
    candidates = sorted(set(urls) | {pack_url(u) for u in urls})
    articles: dict[str, ArticleRow] = {}
    for article in await session.scalars(select(ArticleRow).where(ArticleRow.url.in_(candidates))):
        articles.setdefault(unpack_url(article.url), article)
    items = [
        MostReadItem(articles[u].title, articles[u].url, articles[u].region_codes)
        for u in urls
        if u in articles
    ]
    return items[:limit]


class MostReadRefresher:
    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        store: MostReadStore,
        clock: Clock,
    ) -> None:
        self._catalog = catalog
        self._sessions = sessions
        self._fetcher = fetcher
        self._store = store
        self._clock = clock

    def using(self, sessions: async_sessionmaker[AsyncSession]) -> MostReadRefresher:
        """The same refresher writing through ``sessions`` (the scheduler leader's, whose
        commits need its lease: ``bot.fencing``)."""
        return MostReadRefresher(self._catalog, sessions, self._fetcher, self._store, self._clock)

    def urls(self) -> dict[str, str]:
        url = self._catalog.mostread.url
        if isinstance(url, str):
            return {lang: url for lang in self._catalog.languages} if url else {}
        return {lang: u for lang, u in url.items() if u}

    async def refresh(self) -> None:
        """One refresh of every language; never raises (a scheduler job must not die)."""
        source = self._catalog.mostread.source
        jobs: dict[str, Coroutine[Any, Any, None]]
        if source in ("wordpress-popular-posts", "html"):
            jobs = {lang: self._refresh_fetched(lang, url) for lang, url in self.urls().items()}
        elif source == "clicks":
            jobs = {lang: self._refresh_clicks(lang) for lang in self._catalog.languages}
        else:
            return
        outcomes = await asyncio.gather(*jobs.values(), return_exceptions=True)
        for lang, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("most-read refresh for %s failed unexpectedly: %r", lang, outcome)

    async def _refresh_fetched(self, lang: str, url: str) -> None:
        limit = self._catalog.mostread.limit
        try:
            if self._catalog.mostread.source == "html":
                result = await self._fetcher.fetch(url, accept=HTML_ACCEPT)
                self._check_status(result.status)
                items = await asyncio.to_thread(
                    functools.partial(
                        parse_html_block,
                        result.body,
                        result.url,
                        self._catalog.mostread.selector,
                        limit,
                        content_type=result.headers.get("Content-Type", ""),
                    )
                )
            else:
                result = await self._fetcher.fetch(url, accept="application/json")
                self._check_status(result.status)
                items = parse_popular_posts(result.body, limit)
            if not items:
                raise ValueError("the source listed no articles")
        except (FetchError, ValueError) as exc:
            await self._record_failure(lang, getattr(exc, "reason", str(exc)))
            return
        async with self._sessions.begin() as session:
            await self._store.save(session, lang, items, self._clock.now())
        self._store.failed(lang, None)

    @staticmethod
    def _check_status(status: int) -> None:
        if status != 200:
            raise ValueError(f"HTTP {status}")

    async def _refresh_clicks(self, lang: str) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            items = await ranked_by_clicks(
                session, lang, now - CLICK_WINDOW, self._catalog.mostread.limit
            )
            if items:
                await self._store.save(session, lang, items, now)
            else:  # no taps this week: the store's fallback (latest articles) serves
                row = await session.get(MostReadRow, lang)
                if row is not None:
                    await session.delete(row)

    async def _record_failure(self, lang: str, reason: str) -> None:
        log.warning("most-read source for %s failed: %s (keeping the last list)", lang, reason)
        self._store.failed(lang, reason)
        async with self._sessions.begin() as session:
            row = await session.get(MostReadRow, lang)
            if row is not None:
                row.error = reason[:500]


# --------------------------------------------------------------------------- weekly post

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
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entry for ``build_scheduler(extra=...)``; none when not ``enabled``
    (a dry run)."""
    if not enabled:
        return []
    job = WeeklyMostRead(catalog, translator, sessions, store, clock, on_enqueued=on_enqueued)
    return [("weekly-mostread", WEEKLY_CHECK_SECONDS, job.run)]
