"""Response headers that steer the next poll: ``Retry-After``, ``Cache-Control`` max-age,
and whether a stored validator (ETag, Last-Modified) is safe to send back.

Pure functions, so they are tested directly.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def parse_retry_after(value: str | None, *, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(int(text[:12]))
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), cap)


def parse_max_age(value: str | None) -> int | None:
    """``max-age`` (else ``s-maxage``) seconds from ``Cache-Control``, or ``None``."""
    if not value:
        return None
    found: dict[str, int] = {}
    for directive in value.split(","):
        name, _, raw = directive.partition("=")
        digits = raw.strip().strip('"')
        if digits.isdigit() and len(digits) <= 12:
            found[name.strip().lower()] = int(digits)
    return found.get("max-age", found.get("s-maxage"))


def header_safe(value: str | None) -> bool:
    """A stored validator is sent back only if it cannot break the request line."""
    return value is not None and value != "" and value.isprintable() and value.isascii()
