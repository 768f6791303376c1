"""One poll of one feed: fetch -> parse -> decide -> apply in ONE transaction.

The :class:`Ingestor` only sequences: it reads what is stored (:mod:`.stored`), asks the
pure rules what to do (:mod:`.polling` for the feed's schedule, :mod:`.entries` for what
is new and pushed, :mod:`.articles` for editions and corrections) and hands the result
to :mod:`.apply`, which writes the articles, their deliveries, the corrections and the
feed's polling state together. Alerts go out after the commit. Gap fill, removal checks
and the CMS push live in :mod:`.gapfill`, :mod:`.removals` and :mod:`.cmspush`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alerts
from bot.catalog import Catalog, Feed
from bot.clock import Clock
from bot.domain import FeedEntry, ParsedFeed
from bot.leadership import LeaseLost
from bot.metrics import FeedMetrics, shared_feed_metrics
from bot.storage.failures import log_failure
from bot.storage.fanout import CHUNK
from bot.storage.feeds import ensure_feed
from scheduler.corrections import Correction
from scheduler.discover import effective_base
from scheduler.fetch import Fetcher, FetchError, FetchResult
from scheduler.identity import entry_key
from scheduler.ingest import entries, stored
from scheduler.ingest.apply import Saved, apply_plan, write_feed
from scheduler.ingest.articles import BreakingPush
from scheduler.ingest.cmspush import CmsPush
from scheduler.ingest.enrich import HTML_ACCEPT, discovered_api, with_translations
from scheduler.ingest.fanout import AHEAD, FanOut
from scheduler.ingest.gapfill import GapFill
from scheduler.ingest.polled import PollingState
from scheduler.ingest.polling import (
    Answer,
    FeedState,
    FeedUpdate,
    Found,
    after_failure,
    after_gone,
    after_success,
    skip_reason,
)
from scheduler.ingest.prepare import Prepare
from scheduler.ingest.removals import Removals
from scheduler.ingest.report import PollReport
from scheduler.pages import read_section
from scheduler.parse import parse_feed

# Poll lines go out under the package's name, the one operators filter on.
log = logging.getLogger("scheduler.ingest")

FeedStateRule = Callable[[bool, datetime], FeedUpdate]


def _ids(feed: Feed) -> dict[str, str]:
    """Structured-log fields of a feed's lines (``NEWSBOT_LOG_FORMAT=json``)."""
    return {"feed": feed.url}


def _answer(result: FetchResult) -> Answer:
    return Answer(result.etag, result.last_modified, result.max_age, result.permanent_redirect)


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
        self._leading: async_sessionmaker[AsyncSession] | None = None
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._on_enqueued = on_enqueued
        self._locks: dict[str, asyncio.Lock] = {}
        self._writes = asyncio.Lock()
        self._polling = PollingState(sessions, self._write)
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
        self._fanout = FanOut(
            self._write_beside,
            clock,
            unmatched_to_all=catalog.outlet.unmatched == "all",
            known_topics=tuple(t.code for t in catalog.topics),
            on_enqueued=on_enqueued,
            chunk=fanout_chunk,
            ahead=fanout_ahead,
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
        """While this process leads the scheduler, every write commits only under its
        lease (``sessions`` from ``bot.fencing``): a leader cut off and back after a
        standby took over writes nothing. None when it no longer leads: the CMS pushes a
        web process receives are anyone's to store."""
        self._leading = sessions

    def _writing(self) -> async_sessionmaker[AsyncSession]:
        return self._leading or self._sessions

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction at a time from this process.

        Hundreds of feeds polled at once would otherwise compete for SQLite's single
        writer lock and some would time out ("database is locked"); the transactions
        are milliseconds long, so queueing them here costs PostgreSQL nothing.
        """
        async with self._writes, self._writing().begin() as session:
            yield session

    @contextlib.asynccontextmanager
    async def _write_beside(self) -> AsyncIterator[AsyncSession]:
        """A fan-out chunk's transaction: beside the polls' on PostgreSQL (row locks keep
        them apart), in their queue on SQLite (one writer at a time anyway)."""
        bind = self._sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "postgresql":
            async with self._write() as session:
                yield session
            return
        async with self._writing().begin() as session:
            yield session

    async def wait_idle(self) -> None:
        """Return once no poll is running (shutdown lets the last one commit)."""
        for lock in list(self._locks.values()):
            async with lock:
                pass
        await self._fanout.stop()

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
        except LeaseLost:  # a standby took over the scheduler: nothing was written
            log.warning(
                "poll of %s not written: this process no longer leads the scheduler",
                feed.url,
                extra=_ids(feed),
            )
            return PollReport(feed.url, "skipped", error="not the scheduler's leader")
        except IntegrityError:
            # Another process (a CMS push on a web process) stored the same article
            # between our check and our write; the next poll sees it as known.
            log.warning(
                "poll of %s raced another writer; retried next time", feed.url, extra=_ids(feed)
            )
            return PollReport(feed.url, "skipped", error="concurrent write")
        except Exception as exc:  # last line of defence: log, skip, carry on
            log_failure(log, exc, "poll of %s failed", feed.url, extra=_ids(feed))
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
                log_failure(log, exc, "pushed poll of %s failed", feed.url, extra=_ids(feed))
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
            return await self._failed(feed, state, exc.reason)
        if result.not_modified:
            return await self._not_modified(feed, state, result)
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
        answer = _answer(result)
        ttl = parsed.ttl_seconds
        api, how = (found.base, found.how) if found else (None, "")

        def feed_state(new: bool, now: datetime) -> FeedUpdate:
            return after_success(feed, state, answer, Found(new, ttl, api, how), now)

        rest_keys = fresh_keys - {key for key, _ in keyed}
        saved = await self._save(
            feed, state, fresh, fixes=fixes, feed_state=feed_state, rest_keys=rest_keys
        )
        assert saved.feed is not None  # the plan had a feed_state
        await self._after(feed, state, saved.feed)
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
            "polled %s: %d entries, %s", feed.url, len(keyed), report.in_words(), extra=_ids(feed)
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

    # --- polling state -------------------------------------------------------------------

    async def _after(self, feed: Feed, state: FeedState, change: FeedUpdate) -> None:
        """What follows a committed feed state: the move logged, the alert sent."""
        if change.moved_to:
            log.info("feed %s moved permanently to %s", state.url, change.moved_to)
        if change.alert:
            await self._alerts.alert(change.alert)

    async def _not_modified(self, feed: Feed, state: FeedState, result: FetchResult) -> PollReport:
        """A 304: only the polling state changes."""
        found = Found(False, state.ttl_seconds)
        change = after_success(
            feed, state, _answer(result), found, self._clock.now(), initialized=state.initialized
        )
        await self._polling.write({**change.values, "feed_id": state.id})  # with other 304s
        await self._after(feed, state, change)
        return PollReport(feed.url, "not_modified", next_poll_at=change.next_poll_at)

    async def _failed(
        self, feed: Feed, state: FeedState, reason: str, retry_after: float | None = None
    ) -> PollReport:
        now = self._clock.now()
        change = after_failure(feed, state, reason, now, retry_after)
        async with self._write() as session:
            await write_feed(session, state.id, change)
        assert change.next_poll_at is not None
        log.warning(
            "feed %s failed (%d in a row): %s; next try in %.0f s",
            feed.url,
            state.failures + 1,
            reason,
            (change.next_poll_at - now).total_seconds(),
            extra=_ids(feed),
        )
        await self._after(feed, state, change)
        return PollReport(feed.url, "failed", error=reason, next_poll_at=change.next_poll_at)

    async def _gone(self, feed: Feed, state: FeedState) -> PollReport:
        change = after_gone(feed)
        async with self._write() as session:
            await write_feed(session, state.id, change)
        log.error("feed %s answered 410 Gone; disabled", feed.url, extra=_ids(feed))
        await self._after(feed, state, change)
        return PollReport(feed.url, "disabled", error="HTTP 410")
