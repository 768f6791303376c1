"""Fresh entries become a :class:`~scheduler.ingest.apply.Plan`; known ones, corrections.

The CPU work (summaries, regions, comparisons) runs off the event loop through the pure
rules of :mod:`.articles`; the only reads are the article pages of pushed entries whose
feed gives no summary (:mod:`.enrich`) and the stored versions of known articles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.catalog import Catalog, Feed
from bot.storage.articles import stored_articles
from scheduler.classify import RegionMatcher
from scheduler.corrections import Correction, dump_alternates
from scheduler.fetch import Fetcher
from scheduler.ingest import articles, entries
from scheduler.ingest.apply import Plan
from scheduler.ingest.articles import BreakingPush, Edition
from scheduler.ingest.enrich import page_reads
from scheduler.ingest.polling import FeedState

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class Prepare:
    """Builds each poll's plan from its fresh entries, and finds its corrections."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        breaking: list[BreakingPush],
        *,
        summary_length: int,
        fetch_pages: bool,
    ) -> None:
        self._catalog = catalog
        self._sessions = sessions
        self._fetcher = fetcher
        self._breaking = breaking  # pushes in progress that the CMS marked breaking
        self._summary_length = summary_length
        self._fetch_pages = fetch_pages
        self._matcher = RegionMatcher.from_catalog(catalog)
        self._topics = RegionMatcher.from_topics(catalog.topics)
        #: The channel title each feed last gave: the site's name in its SEO footer.
        self.titles: dict[str, str] = {}

    async def plan(
        self,
        feed: Feed,
        state: FeedState,
        fresh: Sequence[entries.Keyed],
        now: datetime,
        rest_keys: set[str],
    ) -> Plan:
        """Summaries, regions, lead images and breaking flags (off the event loop), and
        the language links, of the fresh entries (newest first)."""
        announce = entries.announced(feed, state.initialized, fresh, now)
        sites = self.site_names(feed)
        pages = (
            await page_reads(self._fetcher, feed, fresh, announce, sites)
            if self._fetch_pages
            else {}
        )
        texts = {key: (page.text, page.image) for key, page in pages.items()}
        prepared = await asyncio.to_thread(
            articles.prepare,
            self.edition(feed, sites),
            self._matcher,
            self._topics,
            fresh,
            state.id,
            announce,
            texts,
        )
        alternates = {
            key: dump_alternates(
                entry.alternates or (pages[key].alternates if key in pages else ())
            )
            for key, entry in fresh
        }
        return Plan(
            state.id,
            feed.url,
            prepared,
            alternates,
            frozenset(rest_keys),
            unmatched_to_all=self._catalog.outlet.unmatched == "all",
            known_topics=tuple(t.code for t in self._catalog.topics),
        )

    async def corrections(
        self, feed: Feed, state: FeedState, known: Sequence[entries.Keyed], now: datetime
    ) -> list[Correction]:
        """Known articles of this feed, still within ``corrections_hours``, that changed."""
        if not feed.corrections_hours or not known:
            return []
        since = now - timedelta(hours=feed.corrections_hours)
        async with self._sessions() as session:
            found = await stored_articles(session, [k for k, _ in known], state.id, since)
        candidates = [(found[key], entry) for key, entry in known if key in found]
        if not candidates:
            return []
        edition = self.edition(feed, self.site_names(feed))
        return await asyncio.to_thread(articles.corrections, edition, candidates)

    def site_names(self, feed: Feed) -> tuple[str, ...]:
        """What the site calls itself, for recognising its SEO footer in summaries."""
        outlet = self._catalog.outlet
        return (
            outlet.name,
            feed.name,
            self.titles.get(feed.url, ""),
            entries.host_name(str(outlet.site)),
            entries.host_name(feed.url),
        )

    def edition(self, feed: Feed, sites: tuple[str, ...]) -> Edition:
        """The rules' view of the feed's edition, with the pushes marked breaking now."""
        return Edition(
            feed.language,
            tuple(feed.regions),
            self._summary_length,
            sites,
            self._catalog.breaking_terms(feed.language),
            tuple(self._breaking),
        )
