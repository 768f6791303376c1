"""The one fake clock of the tests: the project's ``bot.clock.Clock`` under a test's control.

Three ways tests need time, one class:

- **frozen** (the default): wall time stays where the test puts it (``set``, ``advance``)
  and the monotonic clock follows it, so a job called directly or a limit check sees
  exactly the time the test chose;
- **real pacing** (``paces=True``): wall time frozen, but the monotonic clock runs at real
  speed, so a running sender's short per-chat waits pass;
- **running** (``runs=True``): wall time starts where the test says and runs at real
  speed too; ``jump`` moves both clocks (a 429's pause is over, rows due by then are due).

Called as a function it returns the monotonic time, for the components that take a bare
``Callable[[], float]`` (the fake Bot API's limits, the reply limiter).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

#: Where a clock starts when the test does not care (naive UTC, the storage convention).
DEFAULT_START = datetime(2026, 11, 27, 8, 0, 0)
_EPOCH = datetime(2026, 1, 1)


class FakeClock:
    """Naive-UTC wall time and monotonic seconds that move when the test says so."""

    def __init__(
        self, start: datetime | None = None, *, runs: bool = False, paces: bool | None = None
    ) -> None:
        self.current = start or DEFAULT_START
        self.runs = runs
        self.paces = runs if paces is None else paces
        self.origin = time.monotonic()
        self.skipped = 0.0  # seconds the monotonic clock jumped (``jump``)

    def now(self) -> datetime:
        if self.runs:
            return self.current + timedelta(seconds=time.monotonic() - self.origin)
        return self.current

    def monotonic(self) -> float:
        if self.paces:
            return time.monotonic() + self.skipped
        return (self.current - _EPOCH).total_seconds() + self.skipped

    def __call__(self) -> float:
        return self.monotonic()

    def set(self, at: datetime) -> None:
        """Wall time is ``at`` from now on (a frozen monotonic clock follows it)."""
        self.current = at - (self.now() - self.current)

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Wall time forward (or back, when negative) by ``seconds`` plus ``delta``
        (``timedelta``'s keywords); a frozen monotonic clock follows it."""
        self.current += timedelta(seconds=seconds, **delta)

    def jump(self, seconds: float) -> None:
        """Both clocks forward, also when they run at real speed."""
        self.current += timedelta(seconds=seconds)
        if self.paces:
            self.skipped += seconds
