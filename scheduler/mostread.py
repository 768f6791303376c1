"""Refreshing the most-read cache from the catalog's source, on the scheduler.

Sources (``[mostread] source``), each per language:

- ``wordpress-popular-posts``: the plugin's REST API (a JSON list of posts with
  ``title.rendered`` and ``link``);
- ``html``: a page whose "Most read" block holds the links; ``selector`` picks the
  block (or the links themselves) with CSS;
- ``clicks``: the bot's own tracked Read-more taps over the last 7 days, ranked by
  distinct readers;
- ``latest``: nothing to refresh (the store serves the newest articles).

Languages refresh concurrently, so one slow site does not hold up the others.
A failing source keeps the last good list and records the error for operators;
replies never wait for any of this (they read the cache).

The weekly most-read post (``WeeklyMostRead``) goes to the chats that opted in
(``chats.weekly_mostread``) on Monday at the chat's digest time in its time
zone, at most once a week: the week is claimed and the list queued as a ``weekly``
outbox row in one transaction, and the sender sends it like a post (``bot.outbox.kinds``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.catalog import Catalog
from bot.clock import Clock
from bot.mostread import MostReadStore
from bot.storage.mostread import drop_list, note_list_error
from scheduler.fetch import Fetcher, FetchError
from scheduler.mostread_sources import parse_html_block, parse_popular_posts, ranked_by_clicks

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

CLICK_WINDOW = timedelta(days=7)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


class MostReadRefresher:
    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        store: MostReadStore,
        clock: Clock,
    ) -> None:
        self._catalog = catalog
        self._sessions = sessions
        self._fetcher = fetcher
        self._store = store
        self._clock = clock

    def using(self, sessions: async_sessionmaker[AsyncSession]) -> MostReadRefresher:
        """The same refresher writing through ``sessions`` (the scheduler leader's, whose
        commits need its lease: ``bot.fencing``)."""
        return MostReadRefresher(self._catalog, sessions, self._fetcher, self._store, self._clock)

    def urls(self) -> dict[str, str]:
        url = self._catalog.mostread.url
        if isinstance(url, str):
            return {lang: url for lang in self._catalog.languages} if url else {}
        return {lang: u for lang, u in url.items() if u}

    async def refresh(self) -> None:
        """One refresh of every language; never raises (a scheduler job must not die)."""
        source = self._catalog.mostread.source
        jobs: dict[str, Coroutine[Any, Any, None]]
        if source in ("wordpress-popular-posts", "html"):
            jobs = {lang: self._refresh_fetched(lang, url) for lang, url in self.urls().items()}
        elif source == "clicks":
            jobs = {lang: self._refresh_clicks(lang) for lang in self._catalog.languages}
        else:
            return
        outcomes = await asyncio.gather(*jobs.values(), return_exceptions=True)
        for lang, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("most-read refresh for %s failed unexpectedly: %r", lang, outcome)

    async def _refresh_fetched(self, lang: str, url: str) -> None:
        limit = self._catalog.mostread.limit
        try:
            if self._catalog.mostread.source == "html":
                result = await self._fetcher.fetch(url, accept=HTML_ACCEPT)
                self._check_status(result.status)
                items = await asyncio.to_thread(
                    functools.partial(
                        parse_html_block,
                        result.body,
                        result.url,
                        self._catalog.mostread.selector,
                        limit,
                        content_type=result.headers.get("Content-Type", ""),
                    )
                )
            else:
                result = await self._fetcher.fetch(url, accept="application/json")
                self._check_status(result.status)
                items = parse_popular_posts(result.body, limit)
            if not items:
                raise ValueError("the source listed no articles")
        except (FetchError, ValueError) as exc:
            await self._record_failure(lang, getattr(exc, "reason", str(exc)))
            return
        async with self._sessions.begin() as session:
            await self._store.save(session, lang, items, self._clock.now())
        self._store.failed(lang, None)

    @staticmethod
    def _check_status(status: int) -> None:
        if status != 200:
            raise ValueError(f"HTTP {status}")

    async def _refresh_clicks(self, lang: str) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            items = await ranked_by_clicks(
                session, lang, now - CLICK_WINDOW, self._catalog.mostread.limit
            )
            if items:
                await self._store.save(session, lang, items, now)
            else:  # no taps this week: the store's fallback (latest articles) serves
                await drop_list(session, lang)

    async def _record_failure(self, lang: str, reason: str) -> None:
        log.warning("most-read source for %s failed: %s (keeping the last list)", lang, reason)
        self._store.failed(lang, reason)
        async with self._sessions.begin() as session:
            await note_list_error(session, lang, reason[:500])
