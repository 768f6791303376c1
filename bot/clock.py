"""Time as a dependency (DESIGN.md decision 9): naive UTC in storage, injected for tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, naive UTC (the storage convention)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for pacing."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    def monotonic(self) -> float:
        return time.monotonic()


def to_naive_utc(value: datetime | None) -> datetime | None:
    """Aware datetimes become naive UTC; naive ones are taken as UTC already."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
