"""The most-read list: served from the cache table, never from the network.

The scheduler refreshes the cache (``scheduler.mostread``); a reply only reads
it, so a slow or dead source never delays ``/mostread``. With no cached list
(or source ``latest``) the newest articles in the reader's language stand in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.storage.articles import latest_articles, regions_by_url
from bot.storage.mostread import cached_list, cached_lists, store_list

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True, slots=True)
class MostReadItem:
    title: str
    url: str
    regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """For operators: how old each language's cached list is and why it is not newer."""

    language: str
    fetched_at: datetime | None  # None: never fetched successfully
    error: str | None


@dataclass(frozen=True, slots=True)
class MostReadList:
    items: tuple[MostReadItem, ...]
    source: str  # the catalog source, or "latest" for the fallback
    fetched_at: datetime | None


def age_text(fetched_at: datetime | None, now: datetime) -> str:
    """How old a list is, for operators (in English, like their other tools)."""
    if fetched_at is None:
        return "never fetched"
    minutes = max(0, int((now - fetched_at).total_seconds() // 60))
    if minutes < 120:
        return f"updated {minutes} min ago"
    return f"updated {minutes // 60} h ago"


def encode_items(items: list[MostReadItem]) -> str:
    return json.dumps([{"title": i.title, "url": i.url, "regions": list(i.regions)} for i in items])


def decode_items(raw: str) -> list[MostReadItem]:
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    out = []
    for item in data:
        if (
            isinstance(item, dict)
            and isinstance(item.get("title"), str)
            and isinstance(item.get("url"), str)
        ):
            regions = tuple(r for r in item.get("regions", []) if isinstance(r, str))
            out.append(MostReadItem(item["title"], item["url"], regions))
    return out


class MostReadStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], source: str, limit: int) -> None:
        self._sessions = sessions
        self._source = source
        self._limit = limit
        self._failures: dict[str, str] = {}  # languages whose source failed before any list

    @property
    def source(self) -> str:
        return self._source

    def failed(self, language: str, reason: str | None) -> None:
        """Remember (or clear) a source failure, for languages without a stored row."""
        if reason is None:
            self._failures.pop(language, None)
        else:
            self._failures[language] = reason

    async def status(self, languages: list[str]) -> list[SourceStatus]:
        """The cache's age and last error per language, oldest problems visible."""
        async with self._sessions() as session:
            rows = {r.language: r for r in await cached_lists(session)}
        out = []
        for lang in languages:
            row = rows.get(lang)
            if row is not None:
                out.append(SourceStatus(lang, row.fetched_at, row.error))
            else:
                out.append(SourceStatus(lang, None, self._failures.get(lang)))
        return out

    async def top(self, language: str, region: str | None = None) -> MostReadList:
        async with self._sessions() as session:
            if self._source != "latest":
                row = await cached_list(session, language)
                if row is not None:
                    items = await self._with_regions(session, decode_items(row.items_json))
                    if region:
                        items = [i for i in items if region in i.regions]
                    if items:
                        return MostReadList(
                            tuple(items[: self._limit]), self._source, row.fetched_at
                        )
            latest = await latest_articles(session, language, self._limit, region)
        return MostReadList(
            tuple(MostReadItem(a.title, a.url, a.region_codes) for a in latest), "latest", None
        )

    @staticmethod
    async def _with_regions(session: AsyncSession, items: list[MostReadItem]) -> list[MostReadItem]:
        """Fill in regions from known articles by URL (also for articles ingested after
        the list was fetched); items whose article is unknown keep what they had."""
        missing = [i.url for i in items if not i.regions]
        if not missing:
            return items
        known = await regions_by_url(session, missing)
        return [MostReadItem(i.title, i.url, i.regions or known.get(i.url, ())) for i in items]

    async def save(
        self, session: AsyncSession, language: str, items: list[MostReadItem], now: datetime
    ) -> None:
        """Store a fresh list; regions are filled in from known articles by URL."""
        enriched = await self._with_regions(session, items)
        await store_list(session, language, encode_items(enriched), now)
