"""Articles the site removed: gone from its WordPress REST API within the correction window.

Operators are told once per article, and with ``[outlet] delete_removed`` the messages
already sent are queued for deletion (:func:`scheduler.corrections.queue_action`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.alerts import Alerts, Notice, notice
from bot.catalog import Catalog, Feed
from bot.clock import Clock
from bot.storage.articles import Removed, recent_wordpress_articles
from bot.storage.engine import Transaction
from bot.storage.failures import log_failure
from scheduler.corrections import queue_action, removed_from
from scheduler.fetch import Fetcher
from scheduler.identity import entry_key
from scheduler.wordpress import posts_since

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

Write = Transaction


def removal_notice(article: Removed, deleting: int, delete_removed: bool) -> Notice:
    """The editors' alert for one removed article."""
    if delete_removed:
        return notice("removed", title=article.title, url=article.url, count=deleting)
    return notice("removed_kept", title=article.title, url=article.url)


class Removals:
    """Asks each WordPress feed's REST API which recent articles still exist."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        write: Write,
        fetcher: Fetcher,
        clock: Clock,
        alerts: Alerts,
    ) -> None:
        self._catalog = catalog
        self._sessions = sessions
        self._write = write
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._told: set[int] = set()

    async def check(self, bases: list[tuple[Feed, str]]) -> int:
        """Every feed with a REST base and a correction window; returns how many articles
        were found removed. One site's trouble never stops the others."""
        found = 0
        for feed, base in bases:
            if feed.corrections_hours:
                try:
                    found += await self._check(feed, base)
                except Exception as exc:
                    log_failure(
                        log, exc, "removal check of %s failed", feed.url, extra={"feed": feed.url}
                    )
        return found

    async def _check(self, feed: Feed, base: str) -> int:
        now = self._clock.now()
        since = now - timedelta(hours=feed.corrections_hours)
        async with self._sessions() as session:
            stored = await recent_wordpress_articles(session, feed.url, since)
        stored = [(k, a) for k, a in stored if a.article_id not in self._told]
        if not stored:
            return 0
        listing = await posts_since(self._fetcher, base, since.replace(tzinfo=UTC), feed.language)
        if listing.error:
            log.warning("removal check of %s skipped: %s", feed.url, listing.error)
        gone = removed_from(stored, {entry_key(e) for e in listing.entries}, listing.error)
        for article in gone:
            self._told.add(article.article_id)
            await self._report(feed, article, now)
        return len(gone)

    async def _report(self, feed: Feed, article: Removed, now: datetime) -> None:
        deleting = 0
        delete = self._catalog.outlet.delete_removed
        if delete:
            async with self._write() as session:
                deleting = await queue_action(session, article.article_id, "delete", now)
        log.warning(
            "article removed by the site: %s (%d messages to delete)",
            article.url,
            deleting,
            extra={"feed": feed.url, "article_url": article.url},
        )
        await self._alerts.alert(removal_notice(article, deleting, delete))
