"""What the detailed ``/healthz`` says about the bot's own work (bot.web.health holds the
registry): Telegram reachable, the last good feed poll and the last message sent.

Telegram unreachable means nothing can be sent or answered: unhealthy (503). A scheduler
leader whose feeds have not answered for several poll intervals is unhealthy too. The
last send is reported only: a quiet news day sends nothing and is healthy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from telegram.ext import Application

from bot.metrics import DeliveryMetrics, FeedMetrics
from bot.web.health import Check

STALE_POLLS = 3  # poll intervals without a good poll before a leader is unhealthy
MIN_STALE = 900.0  # seconds: never sooner than this


def telegram_check(
    application: Application[Any, Any, Any, Any, Any, Any] | None, ready: asyncio.Event
) -> Check:
    """Telegram answers ``getMe`` (within the report's time limit)."""

    async def check() -> Mapping[str, object]:
        if application is None:
            return {"ok": True, "reachable": None, "note": "dry run: Telegram is not used"}
        if not ready.is_set():
            return {"ok": False, "reachable": False, "error": "not reached since the start"}
        await application.bot.get_me()
        return {"ok": True, "reachable": True}

    return check


def _when(at: float | None, now: float) -> dict[str, object]:
    if at is None:
        return {"at": None, "age_s": None}
    stamp = datetime.fromtimestamp(at, UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return {"at": stamp + "Z", "age_s": round(now - at, 1)}


def activity_check(
    feeds: FeedMetrics,
    deliveries: DeliveryMetrics,
    leads_scheduler: Callable[[], bool],
    longest_interval: float | None,
) -> Check:
    """The last good poll and the last send; unhealthy when this process polls feeds (it
    leads the scheduler) and none answered for ``STALE_POLLS`` intervals."""
    started = time.time()

    async def check() -> Mapping[str, object]:
        now = time.time()
        last_poll = feeds.last_good_poll_at
        ok = True
        if longest_interval is not None and leads_scheduler():
            limit = max(MIN_STALE, STALE_POLLS * longest_interval)
            ok = now - (last_poll or started) <= limit
        report: dict[str, object] = {
            "ok": ok,
            "last_good_poll": _when(last_poll, now),
            "last_send": _when(deliveries.last_sent_at, now),
        }
        if not ok:
            report["error"] = "no feed answered for several poll intervals"
        return report

    return check
