"""Delivery metrics in Prometheus form (served at ``GET /metrics``).

Operators watch four things: what became of each delivery (per final state and chat
kind), how often Telegram told us to slow down (429s, which our pacing should make
rare), how much is still waiting (the backlog gauge) and how many deliveries' fate is
unknown (the unknown gauge); both gauges are read from the database when ``/metrics`` is
scraped, so the sender never spends a query on them.

Metrics live on a ``CollectorRegistry`` passed in, so tests get a private one; the
running bot uses :func:`shared_metrics`, registered once on prometheus-client's
global registry that the web server exposes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from bot.storage.deliveries import backlog_counts, oldest_due
from bot.storage.unknown_deliveries import unknown_counts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Final and intermediate states an outcome can leave a row in (``bot.outbox.queue.Applied``).
OUTCOME_STATES = ("sent", "retry", "unknown", "dead", "dropped")
BACKLOG_STATES = ("pending", "retry", "claimed", "inflight")
# Poll outcomes that mean the feed answered and was read.
GOOD_POLLS = ("new", "unchanged", "not_modified")


class DeliveryMetrics:
    """Counters and gauges of the sender, on one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._count_sends(registry)
        self._gauge_backlog(registry)
        self.rate_limit = Gauge(
            "newsbot_send_rate_limit",
            "Messages per second the sender may send, all chats together (the setting)",
            registry=registry,
        )
        self.leader = Gauge(
            "newsbot_leader",
            "1 while this process runs the scheduler or the sender (role), else 0",
            ["role"],
            registry=registry,
        )
        self._backlog_keys: set[tuple[str, str]] = set()
        self.last_sent_at: float | None = None  # wall clock of the last message sent
        self._backlog_read: tuple[object, float] | None = None  # (from where, when)

    def _count_sends(self, registry: CollectorRegistry) -> None:
        """What each send came to: the counters the sender increments."""
        self.deliveries = Counter(
            "newsbot_deliveries",
            "Outbox rows by the state a Bot API answer left them in "
            "(sent, retry, unknown, dead, dropped), per chat kind",
            ["state", "chat_kind"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "newsbot_telegram_429",
            "Broadcast sends Telegram refused with 429 Too Many Requests, per chat kind",
            ["chat_kind"],
            registry=registry,
        )

    def _gauge_backlog(self, registry: CollectorRegistry) -> None:
        """What is still waiting: the gauges read from the database when scraped."""
        self.backlog = Gauge(
            "newsbot_outbox_backlog",
            "Outbox rows not yet finished, per state and priority "
            "(0 channels, 1 groups, 2 private chats)",
            ["state", "priority"],
            registry=registry,
        )
        self.unknown = Gauge(
            "newsbot_outbox_unknown",
            "Deliveries whose fate is unknown (in flight when the process stopped; never "
            "re-sent by themselves, see /queue and /resend), per audience "
            "(channels, groups, private)",
            ["audience"],
            registry=registry,
        )
        self.oldest_due = Gauge(
            "newsbot_outbox_oldest_due_seconds",
            "How long the longest-waiting due outbox row has been due (0: none is due)",
            registry=registry,
        )

    def outcome(self, state: str, chat_kind: str, count: int = 1) -> None:
        """``count`` rows to chats of ``chat_kind`` reached ``state``."""
        self.deliveries.labels(state=state, chat_kind=chat_kind).inc(count)
        if state == "sent":
            self.last_sent_at = time.time()  # for the detailed /healthz

    def throttled(self, chat_kind: str) -> None:
        self.rate_limited.labels(chat_kind=chat_kind).inc()

    def set_backlog(self, counts: Mapping[tuple[str, int], int]) -> None:
        """Replace the backlog gauge; combinations that emptied read 0, not stale numbers."""
        seen: set[tuple[str, str]] = set()
        for (state, priority), count in counts.items():
            key = (state, str(priority))
            seen.add(key)
            self.backlog.labels(state=key[0], priority=key[1]).set(count)
        for gone_state, gone_priority in self._backlog_keys - seen:
            self.backlog.labels(state=gone_state, priority=gone_priority).set(0)
        self._backlog_keys |= seen

    async def refresh_backlog(
        self, sessions: async_sessionmaker[AsyncSession], max_age: float = 5.0
    ) -> None:
        """Read the backlog gauge from the database unless it was read from the same one
        less than ``max_age`` seconds ago (one index-range count; a scraper polling often
        does not repeat it)."""
        now = time.monotonic()
        last = self._backlog_read
        if last is not None and last[0] is sessions and now - last[1] < max_age:
            return
        wall = datetime.now(UTC).replace(tzinfo=None)
        async with sessions() as session:
            counts = await backlog_counts(session)
            unknown = await unknown_counts(session)
            due_since = await oldest_due(session, wall)
        self._backlog_read = (sessions, now)
        self.set_backlog(counts)
        for audience, count in unknown.items():
            self.unknown.labels(audience=audience).set(count)
        waited = (wall - due_since).total_seconds() if due_since is not None else 0.0
        self.oldest_due.set(max(0.0, waited))

    def watch_leader(self, role: str, leads: Callable[[], bool]) -> None:
        """``newsbot_leader{role}`` reads ``leads()`` when scraped."""
        self.leader.labels(role=role).set_function(lambda: 1.0 if leads() else 0.0)


@functools.cache
def shared_metrics() -> DeliveryMetrics:
    """The process-wide metrics on the global registry (created on first use, once)."""
    return DeliveryMetrics(REGISTRY)


class FeedMetrics:
    """Polls per outcome, their duration, and each feed's run of failures."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.polls = Counter(
            "newsbot_feed_polls",
            "Feed polls by outcome (new, unchanged, not_modified, failed, skipped, disabled)",
            ["outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "newsbot_feed_poll_duration_seconds",
            "Time one feed poll took: fetch, parse, extraction and the database write",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40),
            registry=registry,
        )
        self.failures = Gauge(
            "newsbot_feed_consecutive_failures",
            "Polls of a feed that failed in a row (0 after a good one)",
            ["feed"],
            registry=registry,
        )
        self.last_good_poll_at: float | None = None  # wall clock of the last good poll
        # Labelled children looked up once: ``labels()`` takes a lock and builds a key
        # on every call, twice per poll of thousands of feeds (issue 16, item 4).
        self._outcomes: dict[str, Counter] = {}
        self._feeds: dict[str, Gauge] = {}

    def polled(self, url: str, outcome: str, seconds: float) -> None:
        counter = self._outcomes.get(outcome)
        if counter is None:
            counter = self._outcomes[outcome] = self.polls.labels(outcome=outcome)
        counter.inc()
        if outcome in GOOD_POLLS:
            self.last_good_poll_at = time.time()  # for the detailed /healthz
        if outcome == "skipped":
            return
        self.duration.observe(seconds)
        if outcome == "disabled":
            return
        failures = self._feeds.get(url)
        if failures is None:
            failures = self._feeds[url] = self.failures.labels(feed=url)
        if outcome == "failed":
            failures.inc()
        else:
            failures.set(0)


@functools.cache
def shared_feed_metrics() -> FeedMetrics:
    """The process-wide feed metrics on the global registry (created on first use, once)."""
    return FeedMetrics(REGISTRY)
