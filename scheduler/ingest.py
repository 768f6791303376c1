"""One poll of one feed: fetch -> parse -> new entries -> summarize -> classify -> store.

Everything a poll learns is written in ONE transaction per poll: the new
articles, their outbox rows and the feed's polling state (validators, failures,
next due time). If the process dies before the commit, the next poll sees the
same entries again; after it, nothing is enqueued twice (DESIGN.md flow).

Polling rules (the pure ones are functions at the bottom, tested directly):

- the next poll is due after the feed's interval with ±15 % jitter, stretched
  up to :data:`MAX_STRETCH` times for a feed that keeps having nothing new, and
  never sooner than the server's ``Cache-Control: max-age`` or the feed's
  ``<ttl>`` (a floor, capped at :data:`MAX_FLOOR`);
- 429/503 with ``Retry-After``: no request before that time, even a forced one;
- other failures: exponential backoff with jitter, capped at an hour; one alert
  after :data:`FAILURES_BEFORE_ALERT` failures in a row and one on recovery;
- 410: the feed is disabled; a permanent redirect seen
  :data:`REDIRECTS_BEFORE_MOVE` polls in a row replaces the stored URL;
- a poll of a known feed that finds none of its entries known has a gap: the
  WordPress REST API fills it (the catalog's, or the one found from the feed's
  answers: :mod:`scheduler.discover`), else it is reported;
- items older than the feed's ``horizon`` (hours) are recorded, not pushed;
- a known article whose title or summary changed within the feed's
  ``corrections_hours`` is updated and its sent messages queued for an edit
  (:mod:`scheduler.corrections`), in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alerts
from bot.catalog import Catalog, Feed, fold_term
from bot.clock import Clock, to_naive_utc
from bot.domain import FeedEntry, ParsedFeed
from bot.metrics import FeedMetrics, shared_feed_metrics
from bot.storage.models import ArticleRow, FeedRow
from bot.storage.repo import (
    NewArticle,
    enqueue_article,
    ensure_feed,
    insert_article,
    known_canonical_urls,
    known_keys,
)
from bot.text.html import html_to_text
from bot.text.summarize import is_teaser, summarize
from scheduler.classify import RegionMatcher
from scheduler.corrections import (
    Correction,
    Stored,
    dump_alternates,
    queue_action,
    queue_corrections,
    recent_wordpress_articles,
    removed_from,
    stored_articles,
)
from scheduler.discover import Discovery, discover, effective_base, from_answer
from scheduler.extract import decode_page, extract_page
from scheduler.fetch import Fetcher, FetchError, FetchRefused, FetchResult
from scheduler.identity import canonical_url, entry_key, fallback_key
from scheduler.pages import read_section
from scheduler.parse import parse_feed
from scheduler.translations import page_alternates, translations_for
from scheduler.wordpress import post_by_id, posts_since

log = logging.getLogger(__name__)

FAILURES_BEFORE_ALERT = 3
MAX_BACKOFF = 3600.0
JITTER = 0.15
#: A 301/308 must be seen this many successful polls in a row before the URL is replaced.
REDIRECTS_BEFORE_MOVE = 3
#: Idle polls (nothing new) per doubling of a slow feed's interval ...
IDLE_POLLS_PER_STEP = 4
#: ... up to this many times the catalog interval, and never past an hour by stretching.
MAX_STRETCH = 4
MAX_STRETCHED_INTERVAL = 3600.0
#: A server's max-age or a feed's <ttl> is honoured up to this many seconds.
MAX_FLOOR = 3 * 3600.0
#: Article pages fetched at once for one poll (the fetcher also limits per host).
PAGE_FETCHES = 4
#: Gap alerts for one feed are sent at most this often (each gap is still logged).
GAP_ALERT_EVERY = timedelta(hours=6)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@dataclass(frozen=True, slots=True)
class PollReport:
    url: str
    outcome: str  # new | unchanged | not_modified | failed | skipped | disabled
    new_articles: int = 0
    deliveries: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None  # naive UTC: when the feed is due again
    announced: int = 0  # of new_articles, those sent out (the others were marked seen)

    def in_words(self) -> str:
        """``3 new articles announced (12 messages), 3 older marked seen``: for log lines."""
        if self.outcome in ("new", "unchanged") and self.new_articles:
            parts = []
            if self.announced:
                noun = "article" if self.announced == 1 else "articles"
                parts.append(f"{self.announced} new {noun} announced ({self.deliveries} messages)")
            if self.new_articles > self.announced:
                parts.append(f"{self.new_articles - self.announced} older marked seen")
            return ", ".join(parts)
        words = {
            "new": "nothing new",
            "unchanged": "nothing new",
            "not_modified": "not modified since the last poll",
            "failed": "failed",
            "skipped": "skipped",
            "disabled": "disabled",
        }.get(self.outcome, self.outcome)
        return f"{words} ({self.error})" if self.error else words


class _Saved(NamedTuple):
    """What one transaction stored: articles, of them announced, and outbox rows."""

    stored: int
    announced: int
    deliveries: int


def _ids(feed: Feed) -> dict[str, str]:
    """Structured-log fields of a feed's lines (``NEWSBOT_LOG_FORMAT=json``)."""
    return {"feed": feed.url}


@dataclass(frozen=True, slots=True)
class _FeedState:
    """A feed row as read at the start of a poll (only this poll writes it meanwhile)."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    initialized: bool
    disabled: bool
    failures: int
    next_poll_at: datetime | None
    hold_until: datetime | None
    ttl_seconds: int | None
    last_success_at: datetime | None
    idle_polls: int
    moved_to: str | None
    moved_count: int
    alerted: bool
    wordpress_api: str | None = None  # REST base found from the feed's answers

    @classmethod
    def of(cls, row: FeedRow) -> _FeedState:
        return cls(
            row.id,
            row.current_url,
            row.etag,
            row.last_modified,
            bool(row.initialized),
            bool(row.disabled),
            row.consecutive_failures or 0,
            row.next_poll_at,
            row.hold_until,
            row.ttl_seconds,
            row.last_success_at,
            row.idle_polls or 0,
            row.moved_to,
            row.moved_count or 0,
            bool(row.alerted),
            row.wordpress_api,
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a successful poll found, for the feed's polling state."""

    found_new: bool
    ttl_seconds: int | None
    discovery: Discovery | None = None  # a REST API newly found in the feed's answers


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
        fetch_pages: bool = True,
        metrics: FeedMetrics | None = None,
    ) -> None:
        self._catalog = catalog
        self._metrics = metrics or shared_feed_metrics()
        self._sessions = sessions
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._summary_length = summary_length
        self._on_enqueued = on_enqueued
        self._fetch_pages = fetch_pages
        self._matcher = RegionMatcher.from_catalog(catalog)
        self._topics = RegionMatcher.from_topics(catalog.topics)
        self._locks: dict[str, asyncio.Lock] = {}
        self._writes = asyncio.Lock()
        self._gap_alerted: dict[str, datetime] = {}
        self._removal_told: set[int] = set()
        # The channel title each feed last gave: the site's name in its SEO footer.
        self._feed_titles: dict[str, str] = {}
        # (post id, canonical URL) of pushes in progress that the CMS marked breaking.
        self._breaking_pushes: list[tuple[int | None, str | None]] = []

    async def poll_all(self) -> list[PollReport]:
        """Poll every catalog feed concurrently; one feed's failure never stops another.

        Forced: a feed is polled even before its next due time, except when its
        server asked us to wait (``Retry-After``).
        """
        return list(await asyncio.gather(*(self.poll(f, force=True) for f in self._catalog.feeds)))

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction at a time from this process.

        Hundreds of feeds polled at once would otherwise compete for SQLite's single
        writer lock and some would time out ("database is locked"); the transactions
        are milliseconds long, so queueing them here costs PostgreSQL nothing.
        """
        async with self._writes, self._sessions.begin() as session:
            yield session

    async def wait_idle(self) -> None:
        """Return once no poll is running (shutdown lets the last one commit)."""
        for lock in list(self._locks.values()):
            async with lock:
                pass

    async def poll(self, feed: Feed, *, force: bool = False) -> PollReport:
        lock = self._locks.setdefault(feed.url, asyncio.Lock())
        if lock.locked():
            return PollReport(feed.url, "skipped", error="previous poll still running")
        async with lock:
            started = time.monotonic()
            report = await self._poll_safely(feed, force)
        self._metrics.polled(feed.url, report.outcome, time.monotonic() - started)
        return report

    async def _poll_safely(self, feed: Feed, force: bool) -> PollReport:
        """One poll; whatever goes wrong is logged and becomes a report."""
        try:
            return await self._poll(feed, force)
        except IntegrityError:
            # Another process (a CMS push on a web process) stored the same article
            # between our check and our write; the next poll sees it as known.
            log.warning(
                "poll of %s raced another writer; retried next time", feed.url, extra=_ids(feed)
            )
            return PollReport(feed.url, "skipped", error="concurrent write")
        except Exception as exc:  # last line of defence: log, skip, carry on
            log.exception("poll of %s failed unexpectedly", feed.url, extra=_ids(feed))
            return PollReport(feed.url, "failed", error=repr(exc))

    # --- push from the CMS ----------------------------------------------------------------

    async def push(
        self, *, post_id: int | None = None, url: str | None = None, breaking: bool = False
    ) -> list[PollReport]:
        """The CMS says a post was published: fetch it and push it now.

        With a post id and a feed with a WordPress REST base (the catalog's or a found
        one), that one post is read from the REST API (the feed best matching ``url``
        first). Otherwise the feeds on the URL's host (or all feeds) are polled at once,
        waiting for a poll already running rather than skipping. The article's key is the
        one polling would give it, so a later poll never sends it twice. With ``breaking``
        the article found by that post id or URL is stored as breaking news.
        """
        if not breaking:
            return await self._push(post_id, url)
        flag = (post_id, canonical_url(url) if url else None)
        self._breaking_pushes.append(flag)
        try:
            return await self._push(post_id, url)
        finally:
            self._breaking_pushes.remove(flag)

    async def _push(self, post_id: int | None, url: str | None) -> list[PollReport]:
        if post_id is not None:
            for feed, base in _rest_candidates(await self._rest_bases(), url):
                report = await self._push_post(feed, base, post_id)
                if report is not None:
                    return [report]
        host = urlsplit(url).hostname if url else None
        feeds = [f for f in self._catalog.feeds if host and urlsplit(f.url).hostname == host]
        return list(
            await asyncio.gather(*(self._poll_now(f) for f in feeds or self._catalog.feeds))
        )

    async def _poll_now(self, feed: Feed) -> PollReport:
        async with self._locks.setdefault(feed.url, asyncio.Lock()):
            try:
                return await self._poll(feed, True)
            except Exception as exc:
                log.exception("pushed poll of %s failed unexpectedly", feed.url, extra=_ids(feed))
                return PollReport(feed.url, "failed", error=repr(exc))

    async def _push_post(self, feed: Feed, base: str, post_id: int) -> PollReport | None:
        """One post from the feed's REST API, stored and sent; ``None`` if not found there."""
        entry = await post_by_id(self._fetcher, base, post_id, feed.language)
        if entry is None:
            return None
        async with self._locks.setdefault(feed.url, asyncio.Lock()):
            state = replace(await self._load_state(feed.url), initialized=True)
            fresh = await self._with_translations(
                base, await self._fresh([(entry_key(entry), entry)])
            )
            rest_keys = {key for key, _ in fresh}
            saved = await self._save(feed, state, fresh, rest_keys=rest_keys)
        report = PollReport(
            feed.url,
            "new" if saved.stored else "unchanged",
            saved.stored,
            saved.deliveries,
            announced=saved.announced,
        )
        log.info(
            "pushed post %d from %s: %s", post_id, feed.url, report.in_words(), extra=_ids(feed)
        )
        return report

    async def _poll(self, feed: Feed, force: bool) -> PollReport:
        state = await self._load_state(feed.url)
        now = self._clock.now()
        if state.disabled:
            return PollReport(feed.url, "disabled")
        if state.hold_until and state.hold_until > now:
            return PollReport(
                feed.url, "skipped", error="server asked to wait", next_poll_at=state.hold_until
            )
        if not force and state.next_poll_at and state.next_poll_at > now:
            return PollReport(
                feed.url, "skipped", error="not due yet", next_poll_at=state.next_poll_at
            )
        accept = HTML_ACCEPT if feed.type == "html" else None
        try:
            result = await self._fetch(state, accept)
        except FetchError as exc:
            return await self._failed(feed, state, exc.reason)
        if result.not_modified:
            outcome = _Outcome(found_new=False, ttl_seconds=state.ttl_seconds)
            return await self._finish(feed, state, result, outcome, initialized=state.initialized)
        if result.status == 410:
            return await self._gone(feed, state)
        if result.status in (429, 503):
            return await self._failed(feed, state, f"HTTP {result.status}", result.retry_after)
        if not 200 <= result.status < 300:
            return await self._failed(feed, state, f"HTTP {result.status}")
        parsed = await self._read(feed, result)
        if parsed.error and not parsed.entries:
            return await self._failed(feed, state, f"unreadable feed: {parsed.error}")
        if parsed.error:
            log.warning("feed %s is malformed but readable: %s", feed.url, parsed.error)
        return await self._store(feed, state, result, parsed)

    async def _fetch(self, state: _FeedState, accept: str | None) -> FetchResult:
        if accept is None:
            return await self._fetcher.fetch(
                state.url, etag=state.etag, last_modified=state.last_modified
            )
        return await self._fetcher.fetch(
            state.url, etag=state.etag, last_modified=state.last_modified, accept=accept
        )

    async def _read(self, feed: Feed, result: FetchResult) -> ParsedFeed:
        """A feed document, or a section page whose new article pages are read."""
        if feed.type == "html":
            return await read_section(
                result, feed.links, self._fetcher, self._unknown_urls, accept=HTML_ACCEPT
            )
        return await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)

    async def _unknown_urls(self, urls: Sequence[str]) -> set[str]:
        """The URLs (as given) whose canonical form is not yet an article."""
        async with self._sessions() as session:
            seen = await known_canonical_urls(session, [canonical_url(u) for u in urls])
        return {u for u in urls if canonical_url(u) not in seen}

    async def _load_state(self, url: str) -> _FeedState:
        """One read; the row is created (a write) only the first time a feed is seen."""
        async with self._sessions() as session:
            row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
            if row is not None:
                return _FeedState.of(row)
        async with self._write() as session:
            return _FeedState.of(await ensure_feed(session, url))

    # --- new entries ---------------------------------------------------------------------

    async def _store(
        self, feed: Feed, state: _FeedState, result: FetchResult, parsed: ParsedFeed
    ) -> PollReport:
        entries = _unique_entries(parsed.entries)
        if parsed.title:
            self._feed_titles[feed.url] = parsed.title
        fresh = await self._fresh(entries)
        found = await self._discover(feed, state, result, parsed)
        rest = effective_base(feed, found.base if found else state.wordpress_api)
        if feed.type == "rss" and state.initialized and entries and len(fresh) == len(entries):
            fresh = await self._fill_gap(feed, state, fresh, rest)
        if rest:
            fresh = await self._with_translations(rest, fresh)
        fresh_keys = {key for key, _ in fresh}
        rest_keys = fresh_keys - {key for key, _ in entries}
        fixes = await self._corrections(feed, state, [i for i in entries if i[0] not in fresh_keys])
        marked: list[tuple[bool, datetime]] = []

        async def mark(session: AsyncSession, stored: int, now: datetime) -> None:
            if fixes:
                edits = await queue_corrections(session, fixes, now)
                log.info(
                    "%s: %d articles updated, %d messages to edit", feed.url, len(fixes), edits
                )
            outcome = _Outcome(
                found_new=stored > 0, ttl_seconds=parsed.ttl_seconds, discovery=found
            )
            marked.append(await self._mark_success(session, feed, state, result, outcome, now))

        saved = await self._save(feed, state, fresh, then=mark, rest_keys=rest_keys)
        recovered, next_poll = marked[0]
        await self._tell_recovery(feed, recovered)
        outcome_name = "new" if saved.stored else "unchanged"
        report = PollReport(
            feed.url,
            outcome_name,
            saved.stored,
            saved.deliveries,
            None,
            next_poll,
            announced=saved.announced,
        )
        log.info(
            "polled %s: %d entries, %s", feed.url, len(entries), report.in_words(), extra=_ids(feed)
        )
        return report

    async def _save(
        self,
        feed: Feed,
        state: _FeedState,
        fresh: Sequence[tuple[str, FeedEntry]],
        *,
        then: Callable[[AsyncSession, int, datetime], Awaitable[None]] | None = None,
        rest_keys: set[str] | None = None,
    ) -> _Saved:
        """Summarize, classify and store fresh entries with their deliveries, in ONE
        transaction (``then`` adds the feed's state to it).

        Freshness is checked again inside the transaction: another feed (or a push from
        the CMS) may have stored the same article since, and writes are serialized here.
        """
        now = self._clock.now()
        announce = self._announced(feed, state, fresh, now)
        pages = await self._page_texts(feed, fresh, announce)
        bodies = {key: page.text for key, page in pages.items() if page.text}
        images = {key: page.image for key, page in pages.items() if page.image}
        prepared = await asyncio.to_thread(
            self._prepare, feed, fresh, state.id, announce, bodies, images
        )
        alternates = {
            key: dump_alternates(
                entry.alternates or (pages[key].alternates if key in pages else ())
            )
            for key, entry in fresh
        }
        stored = announced = deliveries = 0
        async with self._write() as session:
            taken = await known_keys(session, [a.key for a in prepared])
            taken_urls = await known_canonical_urls(session, [a.canonical_url for a in prepared])
            for article in reversed(prepared):  # oldest first: channels read chronologically
                if article.key in taken or article.canonical_url in taken_urls:
                    continue
                taken_urls.add(article.canonical_url)
                article_id = await insert_article(session, article, now)
                extra = _extra_columns(article.key, alternates, rest_keys or set())
                if extra:
                    await session.execute(
                        update(ArticleRow).where(ArticleRow.id == article_id).values(extra)
                    )
                stored += 1
                if article.announced:
                    announced += 1
                    deliveries += await enqueue_article(
                        session,
                        article_id,
                        article.language,
                        article.regions,
                        now,
                        unmatched_to_all=self._catalog.outlet.unmatched == "all",
                        breaking=article.breaking,
                    )
            if then is not None:
                await then(session, stored, now)
        if deliveries:
            self._on_enqueued()
        return _Saved(stored, announced, deliveries)

    # --- corrections ---------------------------------------------------------------------

    async def _corrections(
        self, feed: Feed, state: _FeedState, known: Sequence[tuple[str, FeedEntry]]
    ) -> list[Correction]:
        """Known articles of this feed, still within ``corrections_hours``, that changed."""
        if not feed.corrections_hours or not known:
            return []
        since = self._clock.now() - timedelta(hours=feed.corrections_hours)
        async with self._sessions() as session:
            stored = await stored_articles(session, [k for k, _ in known], state.id, since)
        candidates = [(stored[key], entry) for key, entry in known if key in stored]
        if not candidates:
            return []
        return await asyncio.to_thread(self._changed, feed, candidates)

    def _changed(
        self, feed: Feed, candidates: Sequence[tuple[Stored, FeedEntry]]
    ) -> list[Correction]:
        """Title and summary computed as :meth:`_prepare` does, compared with the stored ones.

        An entry whose summary came from its page (no description in the feed) keeps the
        stored summary: pages are not fetched again on every poll, only the title counts.
        """
        fixes = []
        for old, entry in candidates:
            title = html_to_text(entry.title) or entry.url
            if _needs_page(entry, feed.language, self._site_names(feed)):
                summary = old.summary
            else:
                summary = summarize(
                    entry.summary_html,
                    None,
                    feed.language,
                    limit=self._summary_length,
                    title=title,
                    body_html=entry.content_html,
                    sites=self._site_names(feed),
                    url=entry.url,
                )
            # Feeds seldom carry translations; the ones read from the REST API are kept.
            alternates = dump_alternates(entry.alternates) or old.alternates
            # Text first read from the REST API: the feed's version is a new baseline.
            changed = (title[:1000], summary) != (old.title, old.summary)
            edit = changed and old.text_source == "feed"
            if changed or alternates != old.alternates or old.text_source != "feed":
                fixes.append(Correction(old.article_id, title[:1000], summary, alternates, edit))
        return fixes

    async def check_removed(self) -> int:
        """Articles the site removed (gone from its WordPress REST API) within the feeds'
        correction windows: operators are told once, and with ``[outlet] delete_removed``
        their sent messages are queued for deletion. Returns how many were found."""
        found = 0
        for feed, base in await self._rest_bases():
            if feed.corrections_hours:
                try:
                    found += await self._check_removed(feed, base)
                except Exception:  # one site's trouble never stops the others
                    log.exception("removal check of %s failed", feed.url, extra=_ids(feed))
        return found

    async def _check_removed(self, feed: Feed, base: str) -> int:
        now = self._clock.now()
        since = now - timedelta(hours=feed.corrections_hours)
        async with self._sessions() as session:
            stored = await recent_wordpress_articles(session, feed.url, since)
        stored = [(k, a) for k, a in stored if a.article_id not in self._removal_told]
        if not stored:
            return 0
        listing = await posts_since(self._fetcher, base, since.replace(tzinfo=UTC), feed.language)
        if listing.error:
            log.warning("removal check of %s skipped: %s", feed.url, listing.error)
        gone = removed_from(stored, {entry_key(e) for e in listing.entries}, listing.error)
        for article in gone:
            self._removal_told.add(article.article_id)
            deleting = 0
            if self._catalog.outlet.delete_removed:
                async with self._write() as session:
                    deleting = await queue_action(session, article.article_id, "delete", now)
            log.warning(
                "article removed by the site: %s (%d messages to delete)",
                article.url,
                deleting,
                extra={"feed": feed.url, "article_url": article.url},
            )
            what = (
                f"{deleting} sent messages queued for deletion"
                if self._catalog.outlet.delete_removed
                else "sent messages kept ([outlet] delete_removed is off)"
            )
            await self._alerts.alert(
                f"Article removed from the site: {article.title} ({article.url}); {what}"
            )
        return len(gone)

    async def _fresh(self, entries: Sequence[tuple[str, FeedEntry]]) -> list[tuple[str, FeedEntry]]:
        """Entries whose key and canonical URL are both unknown.

        A known guid whose article has another URL *and* another title is a reused guid
        (a CMS numbering its items from 1 again): that entry is re-keyed with
        :func:`fallback_key` (URL + title) instead of being taken for the old article.
        """
        async with self._sessions() as session:
            rows = await session.execute(
                select(ArticleRow.key, ArticleRow.canonical_url, ArticleRow.title).where(
                    ArticleRow.key.in_([k for k, _ in entries])
                )
            )
            stored = {key: (url, title) for key, url, title in rows}
            candidates: list[tuple[str, FeedEntry]] = []
            for key, entry in entries:
                if key in stored:
                    if not _reused_guid(key, stored[key], entry):
                        continue
                    key = fallback_key(entry)
                candidates.append((key, entry))
            seen = await known_keys(session, [k for k, _ in candidates if k.startswith("fb:")])
            candidates = [(k, e) for k, e in candidates if k not in seen]
            seen_urls = await known_canonical_urls(
                session, [canonical_url(e.url) for _, e in candidates]
            )
        return [(k, e) for k, e in candidates if canonical_url(e.url) not in seen_urls]

    async def _discover(
        self, feed: Feed, state: _FeedState, result: FetchResult, parsed: ParsedFeed
    ) -> Discovery | None:
        """A REST API the feed's answer points at, when it is new (none stored yet, or
        the ``Link`` header names another one); the home page is read at most until
        something is stored."""
        if not feed.discovers_wordpress:
            return None
        try:
            if state.wordpress_api:
                found = from_answer(result, page=feed.type == "html")
            else:
                found = await discover(self._fetcher, feed, result, parsed)
        except Exception:  # discovery is a bonus: it never costs a poll
            log.exception("WordPress discovery for %s failed", feed.url)
            return None
        if found is None or found.base == state.wordpress_api:
            return None
        log.info("%s: WordPress REST API at %s (found by %s)", feed.url, found.base, found.how)
        return found

    async def _with_translations(
        self, rest: str, fresh: list[tuple[str, FeedEntry]]
    ) -> list[tuple[str, FeedEntry]]:
        """Fresh WordPress posts without language links get the ones WPML or Polylang
        gives in the REST API (one or two requests for the whole poll)."""
        ids = [e.wp_post_id for _, e in fresh if e.wp_post_id is not None and not e.alternates]
        if not ids:
            return fresh
        try:
            found = await translations_for(self._fetcher, rest, ids)
        except Exception:  # the buttons are a bonus: never lose the articles over them
            log.exception("translations from %s failed", rest)
            return fresh
        return [
            (key, replace(entry, alternates=found[entry.wp_post_id]))
            if entry.wp_post_id in found and not entry.alternates
            else (key, entry)
            for key, entry in fresh
        ]

    async def _rest_bases(self) -> list[tuple[Feed, str]]:
        """Every catalog feed with the REST base it uses (catalog, else discovered)."""
        async with self._sessions() as session:
            rows = await session.execute(select(FeedRow.url, FeedRow.wordpress_api))
            stored = {url: base for url, base in rows}
        pairs = [(f, effective_base(f, stored.get(f.url))) for f in self._catalog.feeds]
        return [(feed, base) for feed, base in pairs if base]

    async def _fill_gap(
        self,
        feed: Feed,
        state: _FeedState,
        fresh: list[tuple[str, FeedEntry]],
        rest: str | None,
    ) -> list[tuple[str, FeedEntry]]:
        """None of the feed's entries is known: articles may have been missed."""
        if not rest:
            log.warning(
                "gap in %s: none of its %d entries was seen before; articles published "
                "in between may be missing (no WordPress REST API configured)",
                feed.url,
                len(fresh),
            )
            await self._gap_alert(
                feed,
                f"Possible gap in {feed.url}: none of its {len(fresh)} items was seen before "
                "and there is no REST API to fill it",
            )
            return fresh
        since = await self._last_published(state)
        filled = await posts_since(self._fetcher, rest, since, feed.language)
        if filled.error:
            log.warning("gap fill for %s incomplete: %s", feed.url, filled.error)
            await self._gap_alert(feed, f"Gap fill for {feed.url} incomplete: {filled.error}")
        have = {key for key, _ in fresh}
        extra = [(entry_key(e), e) for e in filled.entries]
        extra = [(k, e) for k, e in await self._fresh(extra) if k not in have]
        log.info("gap in %s: the REST API supplied %d more posts", feed.url, len(extra))
        return _newest_first([*fresh, *extra])

    async def _gap_alert(self, feed: Feed, text: str) -> None:
        """At most one gap alert per feed every :data:`GAP_ALERT_EVERY` (a feed that only
        ever shows its newest item would otherwise raise one on every new article)."""
        now = self._clock.now()
        last = self._gap_alerted.get(feed.url)
        if last is not None and now - last < GAP_ALERT_EVERY:
            return
        self._gap_alerted[feed.url] = now
        await self._alerts.alert(text)

    async def _last_published(self, state: _FeedState) -> datetime:
        """The newest publication time this feed gave us (aware UTC), to ask for what followed."""
        async with self._sessions() as session:
            newest = await session.scalar(
                select(func.max(ArticleRow.published_at)).where(ArticleRow.feed_id == state.id)
            )
        fallback = state.last_success_at or self._clock.now() - timedelta(days=2)
        return (newest or fallback).replace(tzinfo=UTC)

    def _announced(
        self, feed: Feed, state: _FeedState, fresh: Sequence[tuple[str, FeedEntry]], now: datetime
    ) -> set[int]:
        """Which fresh entries are pushed: on a first poll only the catalog's ``backlog``
        (the newest few, whatever their age: the operator asked for them), later all but
        those older than the feed's horizon (those are recorded, not pushed)."""
        if not state.initialized:
            return set(range(min(feed.backlog, len(fresh))))
        oldest = now - timedelta(hours=feed.horizon)
        chosen = set()
        for index, (_, entry) in enumerate(fresh):
            published = to_naive_utc(entry.published)
            if published is None or published >= oldest:
                chosen.add(index)
        return chosen

    async def _page_texts(
        self, feed: Feed, fresh: Sequence[tuple[str, FeedEntry]], announce: set[int]
    ) -> dict[str, _PageRead]:
        """Article text (and language links) from the page, for pushed entries whose feed
        gives no summary."""
        if not self._fetch_pages:
            return {}
        wanted = [
            (key, entry)
            for index, (key, entry) in enumerate(fresh)
            if index in announce and _needs_page(entry, feed.language, self._site_names(feed))
        ]
        slots = asyncio.Semaphore(PAGE_FETCHES)

        async def one(key: str, entry: FeedEntry) -> tuple[str, _PageRead]:
            async with slots:
                return key, await self._page_text(entry.url)

        found = await asyncio.gather(*(one(key, entry) for key, entry in wanted))
        return {key: page for key, page in found if page.text or page.alternates or page.image}

    async def _page_text(self, url: str) -> _PageRead:
        try:
            result = await self._fetcher.fetch(url, accept=HTML_ACCEPT)
        except FetchRefused:  # logged once per host: the feed's own text is used
            return _PageRead()
        except FetchError as exc:
            log.warning("article page %s unreadable: %s", url, exc.reason)
            return _PageRead()
        if result.status != 200:
            log.warning("article page %s answered HTTP %d", url, result.status)
            return _PageRead()
        html = decode_page(result.body, result.headers, result.url)
        return await asyncio.to_thread(_read_page, html, result.url)

    def _prepare(
        self,
        feed: Feed,
        fresh: Sequence[tuple[str, FeedEntry]],
        feed_id: int,
        announce: set[int],
        bodies: dict[str, str],
        images: dict[str, str],
    ) -> list[NewArticle]:
        """CPU work off the event loop: summaries, regions, lead image and breaking flag
        (newest entry first)."""
        articles = []
        sites = self._site_names(feed)
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
                        bodies.get(key),
                        feed.language,
                        limit=self._summary_length,
                        title=title,
                        body_html=entry.content_html,
                        sites=sites,
                        url=entry.url,
                    ),
                    language=feed.language,
                    regions=self._matcher.classify(entry, feed.regions, feed.language),
                    feed_id=feed_id,
                    published_at=to_naive_utc(entry.published),
                    announced=index in announce,
                    image_url=entry.image_url or images.get(key, ""),
                    breaking=self._is_breaking(entry, feed.language),
                    topics=self._topics.topics(entry, feed.language),
                )
            )
        return articles

    def _site_names(self, feed: Feed) -> tuple[str, ...]:
        """What the site calls itself, for recognising its SEO footer in summaries."""
        outlet = self._catalog.outlet
        return (
            outlet.name,
            feed.name,
            self._feed_titles.get(feed.url, ""),
            _host_name(str(outlet.site)),
            _host_name(feed.url),
        )

    def _is_breaking(self, entry: FeedEntry, language: str) -> bool:
        """A catalog ``breaking`` category or tag, or a CMS push that said so."""
        terms = self._catalog.breaking_terms(language)
        if terms and any(fold_term(c) in terms for c in entry.categories):
            return True
        url = canonical_url(entry.url) if entry.url else None
        return any(
            (post_id is not None and post_id == entry.wp_post_id) or (pushed and pushed == url)
            for post_id, pushed in self._breaking_pushes
        )

    # --- polling state -------------------------------------------------------------------

    async def _mark_success(
        self,
        session: AsyncSession,
        feed: Feed,
        state: _FeedState,
        result: FetchResult,
        outcome: _Outcome,
        now: datetime,
        *,
        initialized: bool = True,
    ) -> tuple[bool, datetime]:
        """Record a good poll in one UPDATE; returns (whether it recovered, next due time)."""
        idle_polls = 0 if outcome.found_new else state.idle_polls + 1
        floor = _floor(result.max_age, outcome.ttl_seconds)
        next_poll = now + timedelta(seconds=next_interval(feed.interval, idle_polls, floor))
        values = {
            "etag": result.etag,
            "last_modified": result.last_modified,
            "initialized": initialized,
            "consecutive_failures": 0,
            "last_error": None,
            "last_polled_at": now,
            "last_success_at": now,
            "hold_until": None,
            "ttl_seconds": outcome.ttl_seconds,
            "idle_polls": idle_polls,
            "next_poll_at": next_poll,
            "alerted": False,
            **_redirect_values(state, result.permanent_redirect),
        }
        if outcome.discovery is not None:
            values["wordpress_api"] = outcome.discovery.base
            values["wordpress_found"] = outcome.discovery.how[:200]
        await session.execute(update(FeedRow).where(FeedRow.id == state.id).values(values))
        return state.alerted, next_poll

    async def _finish(
        self,
        feed: Feed,
        state: _FeedState,
        result: FetchResult,
        outcome: _Outcome,
        *,
        initialized: bool,
    ) -> PollReport:
        """A poll that stored nothing (304): only the polling state changes."""
        async with self._write() as session:
            recovered, next_poll = await self._mark_success(
                session, feed, state, result, outcome, self._clock.now(), initialized=initialized
            )
        await self._tell_recovery(feed, recovered)
        return PollReport(feed.url, "not_modified", next_poll_at=next_poll)

    async def _tell_recovery(self, feed: Feed, recovered: bool) -> None:
        if recovered:
            await self._alerts.alert(f"Feed is back: {feed.url}")

    async def _failed(
        self, feed: Feed, state: _FeedState, reason: str, retry_after: float | None = None
    ) -> PollReport:
        now = self._clock.now()
        failures = state.failures + 1
        wait = retry_after if retry_after is not None else backoff(failures, feed.interval)
        next_poll = now + timedelta(seconds=wait)
        alert = failures >= FAILURES_BEFORE_ALERT and not state.alerted
        values = {
            "consecutive_failures": failures,
            "last_error": reason,
            "last_polled_at": now,
            "next_poll_at": next_poll,
            "hold_until": next_poll if retry_after is not None else None,
            "alerted": state.alerted or alert,
        }
        async with self._write() as session:
            await session.execute(update(FeedRow).where(FeedRow.id == state.id).values(values))
        log.warning(
            "feed %s failed (%d in a row): %s; next try in %.0f s",
            feed.url,
            failures,
            reason,
            wait,
            extra=_ids(feed),
        )
        if alert:
            await self._alerts.alert(
                f"Feed failing {failures} times in a row: {feed.url} ({reason})"
            )
        return PollReport(feed.url, "failed", error=reason, next_poll_at=next_poll)

    async def _gone(self, feed: Feed, state: _FeedState) -> PollReport:
        async with self._write() as session:
            await session.execute(
                update(FeedRow)
                .where(FeedRow.id == state.id)
                .values(disabled=True, last_error="HTTP 410 Gone")
            )
        log.error("feed %s answered 410 Gone; disabled", feed.url, extra=_ids(feed))
        await self._alerts.alert(
            f"Feed removed by the site (410 Gone), polling stopped: {feed.url}"
        )
        return PollReport(feed.url, "disabled", error="HTTP 410")


# --- pure rules ----------------------------------------------------------------------------


def backoff(failures: int, interval: int) -> float:
    """Exponential backoff from the feed's interval, capped at an hour, with jitter."""
    base = min(MAX_BACKOFF, interval * (2 ** min(failures - 1, 30)))
    return float(base * (1 - JITTER + 2 * JITTER * random.random()))


def stretched_interval(interval: int, idle_polls: int) -> float:
    """A feed with nothing new for a while is polled less often, within bounds.

    Doubles every :data:`IDLE_POLLS_PER_STEP` idle polls, up to :data:`MAX_STRETCH`
    times the catalog interval and :data:`MAX_STRETCHED_INTERVAL` (never below the
    catalog interval itself); the first poll that finds news resets it.
    """
    factor = min(MAX_STRETCH, 2 ** min(max(idle_polls, 0) // IDLE_POLLS_PER_STEP, 10))
    ceiling = max(float(interval), MAX_STRETCHED_INTERVAL)
    return min(float(interval * factor), ceiling)


def next_interval(
    interval: int, idle_polls: int, floor: float | None, *, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to the next poll: the (stretched) interval ±15 %, never under ``floor``."""
    jittered = stretched_interval(interval, idle_polls) * (1 - JITTER + 2 * JITTER * rng())
    return max(jittered, floor or 0.0)


def _floor(max_age: int | None, ttl_seconds: int | None) -> float | None:
    """The longer of ``Cache-Control: max-age`` and ``<ttl>``, capped at :data:`MAX_FLOOR`."""
    values = [float(v) for v in (max_age, ttl_seconds) if v]
    return min(max(values), MAX_FLOOR) if values else None


def _redirect_values(state: _FeedState, target: str | None) -> dict[str, object]:
    """Adopt a permanent redirect only after it is seen several polls in a row."""
    if not target or target == state.url:
        return {"moved_to": None, "moved_count": 0}
    count = state.moved_count + 1 if state.moved_to == target else 1
    if count < REDIRECTS_BEFORE_MOVE:
        return {"moved_to": target, "moved_count": count}
    log.info("feed %s moved permanently to %s", state.url, target)
    return {"current_url": target, "moved_to": None, "moved_count": 0}


def _rest_candidates(feeds: Sequence[tuple[Feed, str]], url: str | None) -> list[tuple[Feed, str]]:
    """Feeds with their REST base, the one most like ``url`` first (same host, then the
    longest shared path prefix, so ``/ru/wp-json/`` wins for ``/ru/2026/story/``)."""
    target = urlsplit(url) if url else None

    def likeness(candidate: tuple[Feed, str]) -> tuple[bool, int]:
        if target is None:
            return (False, 0)
        base = urlsplit(candidate[1])
        shared = 0
        for a, b in zip(base.path, target.path, strict=False):
            if a != b:
                break
            shared += 1
        return (base.hostname == target.hostname, shared)

    return sorted(feeds, key=likeness, reverse=True)


def _extra_columns(key: str, alternates: dict[str, str], rest_keys: set[str]) -> dict[str, str]:
    """Article columns ``insert_article`` does not set: language links and text source."""
    values = {}
    if alternates.get(key):
        values["alternates"] = alternates[key]
    if key in rest_keys:
        values["text_source"] = "rest"
    return values


@dataclass(frozen=True, slots=True)
class _PageRead:
    """What an article page gave: its text, its ``hreflang`` language links and its lead
    image."""

    text: str = ""
    alternates: tuple[tuple[str, str], ...] = ()
    image: str = ""


def _read_page(html: str, url: str) -> _PageRead:
    """Extraction and the page's language links, in one pass off the event loop."""
    page = extract_page(html, url)
    return _PageRead(page.text, page_alternates(html, url), page.image)


def _needs_page(entry: FeedEntry, lang: str, sites: Sequence[str]) -> bool:
    """No full text in the feed and no real description (none, or a teaser cut short):
    the page has the lead."""
    if entry.content_html.strip() or not entry.url.startswith(("http://", "https://")):
        return False
    description = html_to_text(entry.summary_html) if entry.summary_html else ""
    return is_teaser(description, html_to_text(entry.title), sites, lang)


def _host_name(url: str) -> str:
    """``jam-news`` for ``https://www.jam-news.net/…``: sites name themselves after it."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    label = host.split(".")[0]
    return "" if label.isdigit() or label == "localhost" else label


def _newest_first(entries: Iterable[tuple[str, FeedEntry]]) -> list[tuple[str, FeedEntry]]:
    """Order by publication time, newest first; undated entries keep their place at the end."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda item: _aware(item[1].published) or oldest, reverse=True)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _unique_entries(entries: Sequence[FeedEntry]) -> list[tuple[str, FeedEntry]]:
    """Entries keyed by identity, first occurrence kept (a feed may repeat an item).

    When one document gives the same key to entries with different URLs, its guids
    are not identities (every item "1", say): the whole document is keyed by
    :func:`fallback_key` instead, so no item hides another.
    """
    keyed = [(entry_key(entry), entry) for entry in entries]
    urls: dict[str, str] = {}
    if any(urls.setdefault(k, canonical_url(e.url)) != canonical_url(e.url) for k, e in keyed):
        log.warning("feed reuses guids for different links; keyed by link and title instead")
        keyed = [(fallback_key(entry), entry) for entry in entries]
    out: dict[str, FeedEntry] = {}
    for key, entry in keyed:
        out.setdefault(key, entry)
    return list(out.items())


def _reused_guid(key: str, stored: tuple[str, str], entry: FeedEntry) -> bool:
    """A guid key seen before for an article with another URL and another title."""
    if not key.startswith("guid:"):
        return False  # WordPress post ids and URLs are not reused
    stored_url, stored_title = stored
    if stored_url == canonical_url(entry.url):
        return False
    return _plain_title(stored_title) != _plain_title(html_to_text(entry.title)[:1000])


def _plain_title(title: str) -> str:
    return " ".join(title.casefold().split())
