"""Retention (CONTRACT.md ``NEWSBOT_KEEP_*``): what may be deleted now, deleted in small
batches, by a scheduled job and by ``newsbot db prune``.

- settled deliveries (sent, unknown, dead, dropped) older than ``keep_deliveries_days``;
- taps older than the longest stats window, folded into daily counts per target;
- article summaries older than ``keep_articles_days`` (the article's key, URLs and title
  stay, so an old article seen again is still recognised and never posted twice);
- handled updates of the inbox after a day (Telegram redelivers within that time only).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.stats import WINDOWS
from bot.storage.inbox import prune_handled
from bot.storage.retention import (
    delete_finished_deliveries,
    drop_article_bodies,
    fold_click_day,
    oldest_click_day,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

BATCH = 1000
KEEP_HANDLED_UPDATES = timedelta(days=1)
EVERY = 3600.0  # seconds between scheduled runs


@dataclass
class PruneReport:
    deliveries: int = 0
    clicks: int = 0
    bodies: int = 0
    updates: int = 0

    def __str__(self) -> str:
        return (
            f"{self.deliveries} deliveries deleted, {self.clicks} taps folded into daily "
            f"counts, {self.bodies} article bodies dropped, {self.updates} handled updates "
            "deleted"
        )


class Retention:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        keep_deliveries_days: int,
        keep_articles_days: int,
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._keep_deliveries = timedelta(days=keep_deliveries_days)
        self._keep_articles = timedelta(days=keep_articles_days)
        self._batch = batch

    async def prune(self) -> PruneReport:
        """Everything retention allows now; returns what was done."""
        now = self._clock.now()
        report = PruneReport()
        report.deliveries = await self._batches(
            lambda s: delete_finished_deliveries(s, now - self._keep_deliveries, self._batch)
        )
        report.clicks = await self._fold_clicks()
        report.bodies = await self._batches(
            lambda s: drop_article_bodies(s, now - self._keep_articles, self._batch)
        )
        report.updates = await self._batches(
            lambda s: prune_handled(s, now - KEEP_HANDLED_UPDATES, self._batch)
        )
        if report.deliveries or report.clicks or report.bodies or report.updates:
            log.info("retention: %s", report)
        return report

    async def _batches(self, step: Callable[[AsyncSession], Awaitable[int]]) -> int:
        """Run ``step`` in its own short transaction until a batch comes back short."""
        total = 0
        while True:
            async with self._sessions.begin() as session:
                done = await step(session)
            total += done
            if done < self._batch:
                return total
            await asyncio.sleep(0)  # let the sender and the handlers in between

    async def _fold_clicks(self) -> int:
        # A tap of day D counts in a window while D is within it; one day of margin.
        before = (self._clock.now() - timedelta(days=max(WINDOWS) + 1)).date()
        total = 0
        while True:
            async with self._sessions.begin() as session:
                day = await oldest_click_day(session, before)
                if day is None:
                    return total
                total += await fold_click_day(session, day)
            await asyncio.sleep(0)
