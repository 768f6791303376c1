"""The activity part of the detailed /healthz: a scheduler leader whose feeds stopped
answering is unhealthy; a standby, or a quiet day without sends, is not."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bot.activity import MIN_STALE, activity_check
from bot.metrics import DeliveryMetrics, FeedMetrics


async def test_a_leader_without_a_good_poll_for_long_is_unhealthy() -> None:
    registry = CollectorRegistry()
    feeds, deliveries = FeedMetrics(registry), DeliveryMetrics(registry)
    leads = True
    check = activity_check(feeds, deliveries, lambda: leads, longest_interval=60.0)

    feeds.polled("https://news.example/feed/", "new", 0.1)
    fresh = await check()
    assert fresh["ok"] is True and fresh["last_send"] == {"at": None, "age_s": None}

    assert feeds.last_good_poll_at is not None
    feeds.last_good_poll_at -= MIN_STALE + 1  # long ago
    feeds.polled("https://news.example/feed/", "failed", 0.1)  # failures do not count
    stale = await check()
    assert stale["ok"] is False and "poll" in str(stale["error"])

    leads = False  # a standby polls nothing: nothing to worry about
    assert (await check())["ok"] is True

    deliveries.outcome("sent", "channel")
    sent = await check()
    last_send = sent["last_send"]
    assert isinstance(last_send, dict) and last_send["age_s"] is not None
    assert 0 <= float(last_send["age_s"]) < 5
