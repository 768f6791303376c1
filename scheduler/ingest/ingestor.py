"""One poll of one feed: fetch -> parse -> decide -> apply in ONE transaction.

The :class:`Ingestor` only sequences: it reads what is stored (:mod:`.stored`), asks the
pure rules what to do (:mod:`.polling` for the feed's schedule, :mod:`.entries` for what
is new and pushed, :mod:`.articles` for editions and corrections) and hands the result
to :mod:`.apply`, which writes the articles, their deliveries, the corrections and the
feed's polling state together. Alerts go out after the commit. Gap fill, removal checks
and the CMS push live in :mod:`.gapfill`, :mod:`.removals` and :mod:`.cmspush`; the write
transactions in :mod:`.writes`; what a 304, a failure or a 410 does in :mod:`.outcomes`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.alerts import Alerts
from bot.catalog import Catalog, Feed
from bot.clock import Clock
from bot.domain import FeedEntry, ParsedFeed
from bot.leadership import LeaseLost
from bot.metrics import FeedMetrics, shared_feed_metrics
from bot.storage.failures import WriteConflict, log_failure
from bot.storage.fanout import CHUNK
from bot.storage.feeds import ensure_feed
from scheduler.corrections import Correction
from scheduler.discover import effective_base
from scheduler.fetch import Fetcher, FetchError, FetchResult
from scheduler.identity import entry_key
from scheduler.ingest import entries, stored
from scheduler.ingest.apply import Saved, apply_plan
from scheduler.ingest.articles import BreakingPush
from scheduler.ingest.cmspush import CmsPush
from scheduler.ingest.enrich import HTML_ACCEPT, discovered_api, with_translations
from scheduler.ingest.fanout import AHEAD, FanOut
from scheduler.ingest.gapfill import GapFill
from scheduler.ingest.outcomes import PollOutcomes, answer_of, log_fields
from scheduler.ingest.polled import PollingState
from scheduler.ingest.polling import (
    FeedState,
    FeedUpdate,
    Found,
    after_success,
    skip_reason,
)
from scheduler.ingest.prepare import Prepare
from scheduler.ingest.removals import Removals
from scheduler.ingest.report import PollReport
from scheduler.ingest.writes import Writes
from scheduler.pages import read_section
from scheduler.parse import parse_feed

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Poll lines go out under the package's name, the one operators filter on.
log = logging.getLogger("scheduler.ingest")

FeedStateRule = Callable[[bool, datetime], FeedUpdate]


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
        fanout_chunk: int = CHUNK,
        fanout_ahead: int = AHEAD,
    ) -> None:
        self._catalog = catalog
        self._metrics = metrics or shared_feed_metrics()
        self._sessions = sessions
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._on_enqueued = on_enqueued
        self._locks: dict[str, asyncio.Lock] = {}
        self._writes = Writes(sessions)
        self._write = self._writes.write
        self._polling = PollingState(sessions, self._write)
        self._outcomes = PollOutcomes(lambda: self._clock.now(), alerts, self._polling, self._write)
        # (post id, canonical URL) of pushes in progress that the CMS marked breaking.
        self._breaking_pushes: list[BreakingPush] = []
        self._prepare = Prepare(
            catalog,
            sessions,
            fetcher,
            self._breaking_pushes,
            summary_length=summary_length,
            fetch_pages=fetch_pages,
        )
        self._gaps = GapFill(fetcher, clock, alerts, lambda found: self._fresh(found))
        self._removals = Removals(catalog, sessions, self._write, fetcher, clock, alerts)
        self._cms = CmsPush(catalog, fetcher, self, self._breaking_pushes)
        self._fanout = self._private_fanout(fanout_chunk, fanout_ahead)

    def _private_fanout(self, chunk: int, ahead: int) -> FanOut:
        """The private rows of each new article, in chunks beside the polls' writes."""
        catalog = self._catalog
        return FanOut(
            self._writes.write_beside,
            self._clock,
            unmatched_to_all=catalog.outlet.unmatched == "all",
            known_topics=tuple(t.code for t in catalog.topics),
            on_enqueued=self._on_enqueued,
            chunk=chunk,
            ahead=ahead,
        )

    async def poll_all(self) -> list[PollReport]:
        """Poll every catalog feed concurrently; one feed's failure never stops another.

        Forced: a feed is polled even before its next due time, except when its
        server asked us to wait (``Retry-After``). Returns once the private fan-out of
        what they found is enqueued too.
        """
        polls = (self.poll(f, force=True) for f in self._catalog.feeds)
        reports = list(await asyncio.gather(*polls))
        await self.fan_out()
        return reports

    async def fan_out(self) -> None:
        """Enqueue every unfinished private fan-out wholly, now (``poll --once``, tests)."""
        await self._fanout.drain()

    async def resume_fan_out(self) -> None:
        """The periodic job: make sure unfinished fan-outs (a dead process's too) go on,
        a window ahead of the sender."""
        self._fanout.kick()

    def write_as_leader(self, sessions: async_sessionmaker[AsyncSession] | None) -> None:
        """While this process leads, writes commit under its lease (:class:`.Writes`)."""
        self._writes.lead(sessions)

    async def wait_idle(self) -> None:
        """Return once no poll is running (shutdown lets the last one commit)."""
        for lock in list(self._locks.values()):
            async with lock:
                pass
        await self._fanout.stop()

    async def poll(self, feed: Feed, *, force: bool = False) -> PollReport:
        lock = self._locks.get(feed.url)
        if lock is None:  # (not setdefault: no new Lock built on every poll)
            lock = self._locks[feed.url] = asyncio.Lock()
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
        except LeaseLost:  # a standby took over the scheduler: nothing was written
            log.warning(
                "poll of %s not written: this process no longer leads the scheduler",
                feed.url,
                extra=log_fields(feed),
            )
            return PollReport(feed.url, "skipped", error="not the scheduler's leader")
        except WriteConflict:
            # Another process (a CMS push on a web process) stored the same article
            # between our check and our write; the next poll sees it as known.
            log.warning(
                "poll of %s raced another writer; retried next time",
                feed.url,
                extra=log_fields(feed),
            )
            return PollReport(feed.url, "skipped", error="concurrent write")
        except Exception as exc:  # last line of defence: log, skip, carry on
            log_failure(log, exc, "poll of %s failed", feed.url, extra=log_fields(feed))
            return PollReport(feed.url, "failed", error=repr(exc))

    # --- push from the CMS and removal checks ---------------------------------------------

    async def push(
        self, *, post_id: int | None = None, url: str | None = None, breaking: bool = False
    ) -> list[PollReport]:
        """The CMS says a post was published: fetch it and push it now (:mod:`.cmspush`)."""
        return await self._cms.push(post_id=post_id, url=url, breaking=breaking)

    async def check_removed(self) -> int:
        """Articles the site removed within the feeds' correction windows (:mod:`.removals`)."""
        return await self._removals.check(await self.rest_bases())

    async def rest_bases(self) -> list[tuple[Feed, str]]:
        """Every catalog feed with the REST base it uses (catalog, else discovered)."""
        async with self._sessions() as session:
            return await stored.rest_bases(session, self._catalog)

    async def poll_now(self, feed: Feed) -> PollReport:
        """A poll that waits for one already running instead of skipping."""
        async with self._locks.setdefault(feed.url, asyncio.Lock()):
            try:
                return await self._poll(feed, True)
            except Exception as exc:
                log_failure(log, exc, "pushed poll of %s failed", feed.url, extra=log_fields(feed))
                return PollReport(feed.url, "failed", error=repr(exc))

    async def store_post(self, feed: Feed, base: str, entry: FeedEntry) -> PollReport:
        """One post read from the REST API, stored and sent like a polled one."""
        async with self._locks.setdefault(feed.url, asyncio.Lock()):
            state = replace(await self._load_state(feed.url), initialized=True)
            fresh = await with_translations(
                self._fetcher, base, await self._fresh([(entry_key(entry), entry)])
            )
            saved = await self._save(feed, state, fresh, rest_keys={key for key, _ in fresh})
        outcome = "new" if saved.stored else "unchanged"
        return PollReport(
            feed.url, outcome, saved.stored, saved.deliveries, announced=saved.announced
        )

    # --- one poll --------------------------------------------------------------------------

    async def _poll(self, feed: Feed, force: bool) -> PollReport:
        state = await self._load_state(feed.url)
        skip = skip_reason(state, self._clock.now(), force=force)
        if skip is not None:
            return PollReport(
                feed.url, skip.outcome, error=skip.error, next_poll_at=skip.next_poll_at
            )
        accept = HTML_ACCEPT if feed.type == "html" else None
        try:
            result = await self._fetch(state, accept)
        except FetchError as exc:
            return await self._outcomes.failed(feed, state, exc.reason)
        if result.not_modified:
            return await self._outcomes.not_modified(feed, state, result)
        if result.status == 410:
            return await self._outcomes.gone(feed, state)
        if result.status in (429, 503):
            return await self._outcomes.failed(
                feed, state, f"HTTP {result.status}", result.retry_after
            )
        if not 200 <= result.status < 300:
            return await self._outcomes.failed(feed, state, f"HTTP {result.status}")
        parsed = await self._read(feed, result)
        if parsed.error and not parsed.entries:
            return await self._outcomes.failed(feed, state, f"unreadable feed: {parsed.error}")
        if parsed.error:
            log.warning("feed %s is malformed but readable: %s", feed.url, parsed.error)
        return await self._store(feed, state, result, parsed)

    async def _fetch(self, state: FeedState, accept: str | None) -> FetchResult:
        extra = {} if accept is None else {"accept": accept}
        return await self._fetcher.fetch(
            state.url, etag=state.etag, last_modified=state.last_modified, **extra
        )

    async def _read(self, feed: Feed, result: FetchResult) -> ParsedFeed:
        """A feed document, or a section page whose new article pages are read."""
        if feed.type == "html":
            return await read_section(
                result, feed.links, self._fetcher, self._unknown_urls, accept=HTML_ACCEPT
            )
        return await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)

    async def _unknown_urls(self, urls: Sequence[str]) -> set[str]:
        async with self._sessions() as session:
            return await stored.unknown_urls(session, urls)

    async def _load_state(self, url: str) -> FeedState:
        """One read; the row is created (a write) only the first time a feed is seen."""
        found = await self._polling.read(url)  # with the other polls starting now
        if found is not None:
            return found
        async with self._write() as session:
            return FeedState.of(await ensure_feed(session, url))

    async def _fresh(self, found: Sequence[entries.Keyed]) -> list[entries.Keyed]:
        async with self._sessions() as session:
            return await stored.fresh_entries(session, found)

    async def _last_published(self, state: FeedState) -> datetime:
        async with self._sessions() as session:
            return await stored.last_published(session, state, self._clock.now())

    # --- new entries ---------------------------------------------------------------------

    async def _store(
        self, feed: Feed, state: FeedState, result: FetchResult, parsed: ParsedFeed
    ) -> PollReport:
        keyed = entries.unique_entries(parsed.entries)
        if parsed.title:
            self._prepare.titles[feed.url] = parsed.title
        fresh = await self._fresh(keyed)
        found = await discovered_api(self._fetcher, feed, state.wordpress_api, result, parsed)
        rest = effective_base(feed, found.base if found else state.wordpress_api)
        if entries.has_gap(feed, state.initialized, keyed, fresh):
            fresh = await self._gaps.fill(feed, fresh, rest, lambda: self._last_published(state))
        if rest:
            fresh = await with_translations(self._fetcher, rest, fresh)
        fresh_keys = {key for key, _ in fresh}
        known = [i for i in keyed if i[0] not in fresh_keys]
        fixes = await self._prepare.corrections(feed, state, known, self._clock.now())
        answer = answer_of(result)
        ttl = parsed.ttl_seconds
        api, how = (found.base, found.how) if found else (None, "")

        def feed_state(new: bool, now: datetime) -> FeedUpdate:
            return after_success(feed, state, answer, Found(new, ttl, api, how), now)

        rest_keys = fresh_keys - {key for key, _ in keyed}
        saved = await self._save(
            feed, state, fresh, fixes=fixes, feed_state=feed_state, rest_keys=rest_keys
        )
        assert saved.feed is not None  # the plan had a feed_state
        await self._outcomes.after(feed, state, saved.feed)
        report = PollReport(
            feed.url,
            "new" if saved.stored else "unchanged",
            saved.stored,
            saved.deliveries,
            None,
            saved.feed.next_poll_at,
            announced=saved.announced,
        )
        log.info(
            "polled %s: %d entries, %s",
            feed.url,
            len(keyed),
            report.in_words(),
            extra=log_fields(feed),
        )
        return report

    async def _save(
        self,
        feed: Feed,
        state: FeedState,
        fresh: Sequence[entries.Keyed],
        *,
        fixes: Sequence[Correction] = (),
        feed_state: FeedStateRule | None = None,
        rest_keys: set[str] | None = None,
    ) -> Saved:
        """Prepare fresh entries, then write them with their deliveries, the corrections
        and the feed's state in ONE transaction (:mod:`.apply`)."""
        now = self._clock.now()
        plan = await self._prepare.plan(feed, state, fresh, now, rest_keys or set())
        plan = replace(plan, corrections=fixes, feed_state=feed_state)
        async with self._write() as session:
            saved = await apply_plan(session, plan, now)
        if saved.deliveries:
            self._on_enqueued()
        if saved.announced:
            self._fanout.kick()
        return saved
