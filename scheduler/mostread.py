"""Refreshing the most-read cache from the catalog's source, on the scheduler.

``wordpress-popular-posts`` reads the plugin's REST API (a JSON list of posts
with ``title.rendered`` and ``link``), per language. A failing source keeps the
last good list and records the error for operators.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.clock import Clock
from bot.mostread import MostReadItem, MostReadStore
from bot.storage.models import MostReadRow
from bot.text.html import html_to_text
from scheduler.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)


def parse_popular_posts(body: bytes, limit: int) -> list[MostReadItem]:
    """Items from a WordPress Popular Posts (or WP REST posts) JSON answer."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of posts")
    items: list[MostReadItem] = []
    for post in data:
        if not isinstance(post, dict):
            continue
        title = post.get("title")
        if isinstance(title, dict):
            title = title.get("rendered")
        link = post.get("link") or post.get("url")
        if (
            isinstance(title, str)
            and isinstance(link, str)
            and link.startswith(("http://", "https://"))
        ):
            items.append(MostReadItem(html_to_text(title), link))
        if len(items) >= limit:
            break
    return items


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

    def urls(self) -> dict[str, str]:
        url = self._catalog.mostread.url
        if isinstance(url, str):
            return {lang: url for lang in self._catalog.languages} if url else {}
        return dict(url)

    async def refresh(self) -> None:
        if self._catalog.mostread.source != "wordpress-popular-posts":
            return
        for lang, url in self.urls().items():
            await self._refresh_one(lang, url)

    async def _refresh_one(self, lang: str, url: str) -> None:
        try:
            result = await self._fetcher.fetch(url, accept="application/json")
            if result.status != 200:
                raise ValueError(f"HTTP {result.status}")
            items = parse_popular_posts(result.body, self._catalog.mostread.limit)
        except (FetchError, ValueError) as exc:
            reason = getattr(exc, "reason", str(exc))
            log.warning("most-read source for %s failed: %s (keeping the last list)", lang, reason)
            async with self._sessions.begin() as session:
                row = await session.get(MostReadRow, lang)
                if row is not None:
                    row.error = reason
            return
        async with self._sessions.begin() as session:
            await self._store.save(session, lang, items, self._clock.now())
