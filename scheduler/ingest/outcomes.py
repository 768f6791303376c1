"""What a poll's outcome does to the feed's polling state: a 304, a failure, a 410.

Each writes the feed's next state (:mod:`.polling` decides it), logs the line and sends
the alert the change carries, after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.alerts import Alerts
from bot.catalog import Feed
from scheduler.fetch import FetchResult
from scheduler.ingest.apply import write_feed
from scheduler.ingest.polled import PollingState, Writer
from scheduler.ingest.polling import (
    Answer,
    FeedState,
    FeedUpdate,
    Found,
    after_failure,
    after_gone,
    after_success,
)
from scheduler.ingest.report import PollReport

# Poll lines go out under the package's name, the one operators filter on.
log = logging.getLogger("scheduler.ingest")


def log_fields(feed: Feed) -> dict[str, str]:
    """Structured-log fields of a feed's lines (``NEWSBOT_LOG_FORMAT=json``)."""
    return {"feed": feed.url}


def answer_of(result: FetchResult) -> Answer:
    """The validators and freshness a server's answer gives the polling rules."""
    return Answer(result.etag, result.last_modified, result.max_age, result.permanent_redirect)


class PollOutcomes:
    """The polling-state side of :class:`.Ingestor`'s poll."""

    def __init__(
        self, now: Callable[[], datetime], alerts: Alerts, polling: PollingState, write: Writer
    ) -> None:
        self._now = now  # the ingestor's clock, read at each outcome
        self._alerts = alerts
        self._polling = polling
        self._write = write

    async def after(self, feed: Feed, state: FeedState, change: FeedUpdate) -> None:
        """What follows a committed feed state: the move logged, the alert sent."""
        if change.moved_to:
            log.info("feed %s moved permanently to %s", state.url, change.moved_to)
        if change.alert:
            await self._alerts.alert(change.alert)

    async def not_modified(self, feed: Feed, state: FeedState, result: FetchResult) -> PollReport:
        """A 304: only the polling state changes."""
        found = Found(False, state.ttl_seconds)
        change = after_success(
            feed, state, answer_of(result), found, self._now(), initialized=state.initialized
        )
        await self._polling.write({**change.values, "feed_id": state.id})  # with other 304s
        await self.after(feed, state, change)
        return PollReport(feed.url, "not_modified", next_poll_at=change.next_poll_at)

    async def failed(
        self, feed: Feed, state: FeedState, reason: str, retry_after: float | None = None
    ) -> PollReport:
        now = self._now()
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
            extra=log_fields(feed),
        )
        await self.after(feed, state, change)
        return PollReport(feed.url, "failed", error=reason, next_poll_at=change.next_poll_at)

    async def gone(self, feed: Feed, state: FeedState) -> PollReport:
        change = after_gone(feed)
        async with self._write() as session:
            await write_feed(session, state.id, change)
        log.error("feed %s answered 410 Gone; disabled", feed.url, extra=log_fields(feed))
        await self.after(feed, state, change)
        return PollReport(feed.url, "disabled", error="HTTP 410")
