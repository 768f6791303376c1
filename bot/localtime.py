"""Readers' wall-clock rules: quiet hours and digest times (DESIGN.md decision 9).

Storage is naive UTC; these pure functions take a naive-UTC ``now``, an IANA time zone
and times of day as minutes after midnight, and answer in naive UTC again. Local times
that a daylight-saving jump skips or repeats are resolved by ``zoneinfo``'s ``fold=0``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
DEFAULT_QUIET = (23 * 60, 8 * 60)
DEFAULT_DIGEST_MINUTE = 8 * 60


def zone(name: str | None) -> ZoneInfo:
    """The named zone, or UTC for an unknown or empty name (never raises)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_local(now_utc: datetime, tz: str | None) -> datetime:
    """Naive UTC -> aware local time."""
    return now_utc.replace(tzinfo=UTC).astimezone(zone(tz))


def to_utc(local: datetime) -> datetime:
    """Aware local time -> naive UTC."""
    return local.astimezone(UTC).replace(tzinfo=None)


def at_minute(day: date, minute: int, tz: str | None) -> datetime:
    """Naive UTC of ``minute`` after local midnight on ``day`` in ``tz``."""
    hours, minutes = divmod(minute % MINUTES_PER_DAY, 60)
    return to_utc(datetime.combine(day, time(hours, minutes), tzinfo=zone(tz)))


def in_quiet_hours(local_minute: int, start: int, end: int) -> bool:
    """Whether a local time falls in quiet hours ``[start, end)``; they may span midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local_minute < end
    return local_minute >= start or local_minute < end


def quiet_until(
    now_utc: datetime, tz: str | None, start: int | None, end: int | None
) -> datetime | None:
    """When the quiet hours around ``now_utc`` end (naive UTC), or None when not quiet now."""
    if start is None or end is None:
        return None
    local = to_local(now_utc, tz)
    minute = local.hour * 60 + local.minute
    if not in_quiet_hours(minute, start, end):
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    return at_minute(day, end, tz)


def last_digest_time(now_utc: datetime, tz: str | None, minute: int) -> datetime:
    """The latest scheduled digest moment at or before ``now_utc`` (naive UTC)."""
    local = to_local(now_utc, tz)
    today = at_minute(local.date(), minute, tz)
    if today <= now_utc:
        return today
    return at_minute(local.date() - timedelta(days=1), minute, tz)


def hhmm(minute: int) -> str:
    """``480`` -> ``"08:00"``."""
    hours, minutes = divmod(minute % MINUTES_PER_DAY, 60)
    return f"{hours:02d}:{minutes:02d}"
