"""What one poll did, for logs, metrics and the scheduler's next run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PollReport:
    url: str
    outcome: str  # new | unchanged | not_modified | failed | skipped | disabled
    new_articles: int = 0
    deliveries: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None  # naive UTC: when the feed is due again
    announced: int = 0  # of new_articles, those sent out (the others were marked seen)

    def in_words(self) -> str:
        """``3 new articles announced (12 messages), 3 older marked seen``: for log lines."""
        if self.outcome in ("new", "unchanged") and self.new_articles:
            parts = []
            if self.announced:
                noun = "article" if self.announced == 1 else "articles"
                parts.append(f"{self.announced} new {noun} announced ({self.deliveries} messages)")
            if self.new_articles > self.announced:
                parts.append(f"{self.new_articles - self.announced} older marked seen")
            return ", ".join(parts)
        words = {
            "new": "nothing new",
            "unchanged": "nothing new",
            "not_modified": "not modified since the last poll",
            "failed": "failed",
            "skipped": "skipped",
            "disabled": "disabled",
        }.get(self.outcome, self.outcome)
        return f"{words} ({self.error})" if self.error else words
