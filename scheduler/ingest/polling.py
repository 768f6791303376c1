"""When a feed is polled next, and what its row says after a poll: pure decisions.

Each function takes the feed's stored state and what the poll learned and returns a
:class:`FeedUpdate`: the columns to write, the next due time and the alert to send, if
any. Nothing here reads or writes the database or the network
(:mod:`scheduler.apply` writes the update; tests feed these data in and read data out).

- the next poll is due after the feed's interval with ±15 % jitter, stretched up to
  :data:`MAX_STRETCH` times for a feed that keeps having nothing new, and never sooner
  than the server's ``Cache-Control: max-age`` or the feed's ``<ttl>`` (a floor, capped
  at :data:`MAX_FLOOR`);
- 429/503 with ``Retry-After``: no request before that time, even a forced one;
- other failures: exponential backoff with jitter, capped at an hour; one alert after
  :data:`FAILURES_BEFORE_ALERT` failures in a row and one on recovery;
- 410: the feed is disabled; a permanent redirect seen :data:`REDIRECTS_BEFORE_MOVE`
  polls in a row replaces the stored URL.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.alerts import Notice, notice
from bot.catalog import Feed
from bot.storage.feeds import StateRow
from bot.storage.models import FeedRow

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

Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class FeedState:
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
    def of(cls, row: FeedRow | StateRow) -> FeedState:
        """From the ORM row or a polling state row (``bot.storage.feeds.STATE_COLUMNS``,
        same attribute names)."""
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
class Answer:
    """What a good answer (2xx or 304) said about polling itself."""

    etag: str | None
    last_modified: str | None
    max_age: int | None = None
    permanent_redirect: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """What a successful poll found, for the feed's polling state."""

    new: bool
    ttl_seconds: int | None
    wordpress_api: str | None = None  # a REST API newly found in the feed's answers
    wordpress_found: str = ""  # how it was found


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """Columns of the feed row to write, when it is due again, and an alert to send."""

    values: dict[str, object] = field(default_factory=dict)
    next_poll_at: datetime | None = None
    alert: Notice | None = None
    moved_to: str | None = None  # a permanent redirect adopted by this poll


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a poll does not go ahead: ``disabled`` or ``skipped`` with a reason."""

    outcome: str
    error: str | None = None
    next_poll_at: datetime | None = None


def skip_reason(state: FeedState, now: datetime, *, force: bool) -> Skip | None:
    """A disabled feed, a server that asked to wait, or a feed not due yet (unless forced)."""
    if state.disabled:
        return Skip("disabled")
    if state.hold_until and state.hold_until > now:
        return Skip("skipped", "server asked to wait", state.hold_until)
    if not force and state.next_poll_at and state.next_poll_at > now:
        return Skip("skipped", "not due yet", state.next_poll_at)
    return None


def after_success(
    feed: Feed,
    state: FeedState,
    answer: Answer,
    found: Found,
    now: datetime,
    *,
    initialized: bool = True,
    rng: Random = random.random,
) -> FeedUpdate:
    """A good poll: validators kept, failures cleared, the next poll due after the
    (stretched) interval; an alert when the feed had been reported failing."""
    idle_polls = 0 if found.new else state.idle_polls + 1
    floor = poll_floor(answer.max_age, found.ttl_seconds)
    next_poll = now + timedelta(seconds=next_interval(feed.interval, idle_polls, floor, rng=rng))
    redirect = redirect_values(state, answer.permanent_redirect)
    values: dict[str, object] = {
        "etag": answer.etag,
        "last_modified": answer.last_modified,
        "initialized": initialized,
        "consecutive_failures": 0,
        "last_error": None,
        "last_polled_at": now,
        "last_success_at": now,
        "hold_until": None,
        "ttl_seconds": found.ttl_seconds,
        "idle_polls": idle_polls,
        "next_poll_at": next_poll,
        "alerted": False,
        **redirect,
    }
    if found.wordpress_api is not None:
        values["wordpress_api"] = found.wordpress_api
        values["wordpress_found"] = found.wordpress_found[:200]
    alert = notice("feed_back", url=feed.url) if state.alerted else None
    moved = redirect.get("current_url")
    return FeedUpdate(values, next_poll, alert, moved if isinstance(moved, str) else None)


def after_failure(
    feed: Feed,
    state: FeedState,
    reason: str,
    now: datetime,
    retry_after: float | None = None,
    *,
    rng: Random = random.random,
) -> FeedUpdate:
    """A failed poll: backoff (or the server's ``Retry-After``, which also holds forced
    polls), and one alert once it has failed :data:`FAILURES_BEFORE_ALERT` times."""
    failures = state.failures + 1
    wait = retry_after if retry_after is not None else backoff(failures, feed.interval, rng=rng)
    next_poll = now + timedelta(seconds=wait)
    alert = failures >= FAILURES_BEFORE_ALERT and not state.alerted
    values: dict[str, object] = {
        "consecutive_failures": failures,
        "last_error": reason,
        "last_polled_at": now,
        "next_poll_at": next_poll,
        "hold_until": next_poll if retry_after is not None else None,
        "alerted": state.alerted or alert,
    }
    text = notice("feed_failing", url=feed.url, count=failures, reason=reason) if alert else None
    return FeedUpdate(values, next_poll, text)


def after_gone(feed: Feed) -> FeedUpdate:
    """410 Gone: the site removed the feed; polling stops and the editors are told."""
    return FeedUpdate(
        {"disabled": True, "last_error": "HTTP 410 Gone"},
        None,
        notice("feed_gone", url=feed.url),
    )


def backoff(failures: int, interval: int, *, rng: Random = random.random) -> float:
    """Exponential backoff from the feed's interval, capped at an hour, with jitter."""
    base = min(MAX_BACKOFF, interval * (2 ** min(failures - 1, 30)))
    return float(base * (1 - JITTER + 2 * JITTER * rng()))


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
    interval: int, idle_polls: int, floor: float | None, *, rng: Random = random.random
) -> float:
    """Seconds to the next poll: the (stretched) interval ±15 %, never under ``floor``."""
    jittered = stretched_interval(interval, idle_polls) * (1 - JITTER + 2 * JITTER * rng())
    return max(jittered, floor or 0.0)


def poll_floor(max_age: int | None, ttl_seconds: int | None) -> float | None:
    """The longer of ``Cache-Control: max-age`` and ``<ttl>``, capped at :data:`MAX_FLOOR`."""
    values = [float(v) for v in (max_age, ttl_seconds) if v]
    return min(max(values), MAX_FLOOR) if values else None


def redirect_values(state: FeedState, target: str | None) -> dict[str, object]:
    """Adopt a permanent redirect only after it is seen several polls in a row."""
    if not target or target == state.url:
        return {"moved_to": None, "moved_count": 0}
    count = state.moved_count + 1 if state.moved_to == target else 1
    if count < REDIRECTS_BEFORE_MOVE:
        return {"moved_to": target, "moved_count": count}
    return {"current_url": target, "moved_to": None, "moved_count": 0}
