"""One poll of one feed: fetch -> parse -> new entries -> summarize -> classify -> store.

Everything a poll learns is written in ONE transaction per poll: the new
articles, their outbox rows and the feed's validators (ETag/Last-Modified).
If the process dies before the commit, the next poll sees the same entries
again; after it, nothing is enqueued twice (DESIGN.md flow).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alerts
from bot.catalog import Catalog, Feed
from bot.clock import Clock, to_naive_utc
from bot.domain import FeedEntry, ParsedFeed
from bot.storage.models import FeedRow
from bot.storage.repo import (
    NewArticle,
    enqueue_article,
    ensure_feed,
    insert_article,
    known_canonical_urls,
    known_keys,
)
from bot.text.html import html_to_text
from bot.text.summarize import summarize
from scheduler.classify import RegionMatcher
from scheduler.fetch import Fetcher, FetchError, FetchResult
from scheduler.identity import canonical_url, entry_key
from scheduler.parse import parse_feed

log = logging.getLogger(__name__)

FAILURES_BEFORE_ALERT = 3
MAX_BACKOFF = 3600.0


@dataclass(frozen=True, slots=True)
class PollReport:
    url: str
    outcome: str  # new | unchanged | not_modified | failed | skipped | disabled
    new_articles: int = 0
    deliveries: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _FeedState:
    id: int
    url: str
    etag: str | None
    last_modified: str | None
    initialized: bool
    disabled: bool
    failures: int
    next_poll_at: datetime | None


class Ingestor:
    """Polls catalog feeds and turns new entries into articles and deliveries."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        clock: Clock,
        *,
        alerts: Alerts,
        summary_length: int = 600,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._catalog = catalog
        self._sessions = sessions
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._summary_length = summary_length
        self._on_enqueued = on_enqueued
        self._matcher = RegionMatcher.from_regions(catalog.regions)
        self._locks: dict[str, asyncio.Lock] = {}

    async def poll_all(self) -> list[PollReport]:
        """Poll every catalog feed concurrently; one feed's failure never stops another."""
        return list(await asyncio.gather(*(self.poll(f, force=True) for f in self._catalog.feeds)))

    async def poll(self, feed: Feed, *, force: bool = False) -> PollReport:
        lock = self._locks.setdefault(feed.url, asyncio.Lock())
        if lock.locked():
            return PollReport(feed.url, "skipped", error="previous poll still running")
        async with lock:
            try:
                return await self._poll(feed, force)
            except Exception as exc:  # last line of defence: log, skip, carry on
                log.exception("poll of %s failed unexpectedly", feed.url)
                return PollReport(feed.url, "failed", error=repr(exc))

    async def _poll(self, feed: Feed, force: bool) -> PollReport:
        state = await self._load_state(feed.url)
        now = self._clock.now()
        if state.disabled:
            return PollReport(feed.url, "disabled")
        if not force and state.next_poll_at and state.next_poll_at > now:
            return PollReport(feed.url, "skipped", error="backing off")
        try:
            result = await self._fetcher.fetch(
                state.url, etag=state.etag, last_modified=state.last_modified
            )
        except FetchError as exc:
            return await self._failed(feed, state, exc.reason)
        if result.not_modified:
            await self._succeeded(state, result, initialized=state.initialized)
            return PollReport(feed.url, "not_modified")
        if result.status == 410:
            return await self._gone(feed, state)
        if result.status in (429, 503):
            return await self._failed(feed, state, f"HTTP {result.status}", result.retry_after)
        if not 200 <= result.status < 300:
            return await self._failed(feed, state, f"HTTP {result.status}")
        parsed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)
        if parsed.error and not parsed.entries:
            return await self._failed(feed, state, f"unreadable feed: {parsed.error}")
        if parsed.error:
            log.warning("feed %s is malformed but readable: %s", feed.url, parsed.error)
        return await self._store(feed, state, result, parsed)

    async def _load_state(self, url: str) -> _FeedState:
        async with self._sessions.begin() as session:
            row = await ensure_feed(session, url)
            return _FeedState(
                row.id,
                row.current_url,
                row.etag,
                row.last_modified,
                row.initialized,
                row.disabled,
                row.consecutive_failures,
                row.next_poll_at,
            )

    async def _store(
        self, feed: Feed, state: _FeedState, result: FetchResult, parsed: ParsedFeed
    ) -> PollReport:
        entries = _unique_entries(parsed.entries)
        async with self._sessions() as session:
            seen = await known_keys(session, [k for k, _ in entries])
            fresh = [(k, e) for k, e in entries if k not in seen]
            seen_urls = await known_canonical_urls(
                session, [canonical_url(e.url) for _, e in fresh]
            )
        fresh = [(k, e) for k, e in fresh if canonical_url(e.url) not in seen_urls]
        announce = (
            set(range(len(fresh)))
            if state.initialized
            else set(range(min(feed.backlog, len(fresh))))
        )
        prepared = await asyncio.to_thread(self._prepare, feed, fresh, state.id, announce)
        deliveries = 0
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for article in reversed(prepared):  # oldest first: channels read chronologically
                article_id = await insert_article(session, article, now)
                if article.announced:
                    deliveries += await enqueue_article(
                        session, article_id, article.language, article.regions, now
                    )
            await self._mark_success(session, state, result, now)
        if deliveries:
            self._on_enqueued()
        if state.failures >= FAILURES_BEFORE_ALERT:
            await self._alerts.alert(f"Feed is back: {feed.url}")
        outcome = "new" if prepared else "unchanged"
        log.info(
            "polled %s: %d entries, %d new, %d deliveries",
            feed.url,
            len(entries),
            len(prepared),
            deliveries,
        )
        return PollReport(feed.url, outcome, len(prepared), deliveries)

    def _prepare(
        self, feed: Feed, fresh: Sequence[tuple[str, FeedEntry]], feed_id: int, announce: set[int]
    ) -> list[NewArticle]:
        """CPU work off the event loop: summaries and regions (newest entry first)."""
        articles = []
        for index, (key, entry) in enumerate(fresh):
            title = html_to_text(entry.title) or entry.url
            articles.append(
                NewArticle(
                    key=key,
                    url=entry.url,
                    canonical_url=canonical_url(entry.url),
                    title=title[:1000],
                    summary=summarize(
                        entry.summary_html,
                        html_to_text(entry.content_html) if entry.content_html else None,
                        feed.language,
                        limit=self._summary_length,
                        title=title,
                    ),
                    language=feed.language,
                    regions=self._matcher.classify(entry, feed.regions, feed.language),
                    feed_id=feed_id,
                    published_at=to_naive_utc(entry.published),
                    announced=index in announce,
                )
            )
        return articles

    async def _mark_success(
        self, session: AsyncSession, state: _FeedState, result: FetchResult, now: datetime
    ) -> None:
        row = await session.get(FeedRow, state.id)
        assert row is not None
        row.etag = result.etag
        row.last_modified = result.last_modified
        row.initialized = True
        row.consecutive_failures = 0
        row.last_error = None
        row.last_polled_at = now
        row.last_success_at = now
        row.next_poll_at = None
        if result.permanent_redirect:
            log.info("feed %s moved permanently to %s", state.url, result.permanent_redirect)
            row.current_url = result.permanent_redirect

    async def _succeeded(self, state: _FeedState, result: FetchResult, initialized: bool) -> None:
        async with self._sessions.begin() as session:
            await self._mark_success(session, state, result, self._clock.now())
            row = await session.get(FeedRow, state.id)
            assert row is not None
            row.initialized = initialized
        if state.failures >= FAILURES_BEFORE_ALERT:
            await self._alerts.alert(f"Feed is back: {state.url}")

    async def _failed(
        self, feed: Feed, state: _FeedState, reason: str, retry_after: float | None = None
    ) -> PollReport:
        failures = state.failures + 1
        wait = retry_after if retry_after is not None else _backoff(failures, feed.interval)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(FeedRow, state.id)
            assert row is not None
            row.consecutive_failures = failures
            row.last_error = reason
            row.last_polled_at = now
            row.next_poll_at = now + timedelta(seconds=wait)
        log.warning(
            "feed %s failed (%d in a row): %s; next try in %.0f s", feed.url, failures, reason, wait
        )
        if failures == FAILURES_BEFORE_ALERT:
            await self._alerts.alert(
                f"Feed failing {failures} times in a row: {feed.url} ({reason})"
            )
        return PollReport(feed.url, "failed", error=reason)

    async def _gone(self, feed: Feed, state: _FeedState) -> PollReport:
        async with self._sessions.begin() as session:
            row = await session.get(FeedRow, state.id)
            assert row is not None
            row.disabled = True
            row.last_error = "HTTP 410 Gone"
        log.error("feed %s answered 410 Gone; disabled", feed.url)
        await self._alerts.alert(
            f"Feed removed by the site (410 Gone), polling stopped: {feed.url}"
        )
        return PollReport(feed.url, "disabled", error="HTTP 410")


def _backoff(failures: int, interval: int) -> float:
    """Exponential backoff from the feed's interval, capped at an hour, with jitter."""
    base = min(MAX_BACKOFF, interval * (2 ** (failures - 1)))
    return float(base * (0.85 + 0.3 * random.random()))


def _unique_entries(entries: Sequence[FeedEntry]) -> list[tuple[str, FeedEntry]]:
    """Entries keyed by identity, first occurrence kept (a feed may repeat an item)."""
    out: dict[str, FeedEntry] = {}
    for entry in entries:
        out.setdefault(entry_key(entry), entry)
    return list(out.items())
