"""Push from the CMS: a post was published, fetch it and send it now.

With a post id and a feed with a WordPress REST base (the catalog's or a found one),
that one post is read from the REST API (the feed best matching the URL first).
Otherwise the feeds on the URL's host (or all feeds) are polled at once, waiting for a
poll already running rather than skipping. The article's key is the one polling would
give it, so a later poll never sends it twice. A push that says "breaking" marks the
article found by that post id or URL as breaking news while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

from bot.catalog import Catalog, Feed
from bot.domain import FeedEntry
from scheduler.fetch import Fetcher
from scheduler.identity import canonical_url
from scheduler.ingest.articles import BreakingPush
from scheduler.ingest.report import PollReport
from scheduler.wordpress import post_by_id

log = logging.getLogger(__name__)


class Poller(Protocol):
    """What a push needs from the ingestor."""

    async def rest_bases(self) -> list[tuple[Feed, str]]: ...

    async def poll_now(self, feed: Feed) -> PollReport: ...

    async def store_post(self, feed: Feed, base: str, entry: FeedEntry) -> PollReport: ...


class CmsPush:
    """Turns ``POST /ingest`` into a REST read of one post, or an immediate poll."""

    def __init__(
        self, catalog: Catalog, fetcher: Fetcher, poller: Poller, breaking: list[BreakingPush]
    ) -> None:
        self._catalog = catalog
        self._fetcher = fetcher
        self._poller = poller
        self._breaking = breaking  # shared with the ingestor, which reads it while preparing

    async def push(
        self, *, post_id: int | None = None, url: str | None = None, breaking: bool = False
    ) -> list[PollReport]:
        if not breaking:
            return await self._push(post_id, url)
        flag = (post_id, canonical_url(url) if url else None)
        self._breaking.append(flag)
        try:
            return await self._push(post_id, url)
        finally:
            self._breaking.remove(flag)

    async def _push(self, post_id: int | None, url: str | None) -> list[PollReport]:
        if post_id is not None:
            for feed, base in rest_candidates(await self._poller.rest_bases(), url):
                report = await self._push_post(feed, base, post_id)
                if report is not None:
                    return [report]
        host = urlsplit(url).hostname if url else None
        feeds = [f for f in self._catalog.feeds if host and urlsplit(f.url).hostname == host]
        polls = (self._poller.poll_now(f) for f in feeds or self._catalog.feeds)
        return list(await asyncio.gather(*polls))

    async def _push_post(self, feed: Feed, base: str, post_id: int) -> PollReport | None:
        """One post from the feed's REST API, stored and sent; ``None`` if not found there."""
        entry = await post_by_id(self._fetcher, base, post_id, feed.language)
        if entry is None:
            return None
        report = await self._poller.store_post(feed, base, entry)
        log.info(
            "pushed post %d from %s: %s",
            post_id,
            feed.url,
            report.in_words(),
            extra={"feed": feed.url},
        )
        return report


def rest_candidates(feeds: Sequence[tuple[Feed, str]], url: str | None) -> list[tuple[Feed, str]]:
    """Feeds with their REST base, the one most like ``url`` first (same host, then the
    longest shared path prefix, so ``/ru/wp-json/`` wins for ``/ru/2026/story/``)."""
    target = urlsplit(url) if url else None

    def likeness(candidate: tuple[Feed, str]) -> tuple[bool, int]:
        if target is None:
            return (False, 0)
        base = urlsplit(candidate[1])
        shared = 0
        for a, b in zip(base.path, target.path, strict=False):
            if a != b:
                break
            shared += 1
        return (base.hostname == target.hostname, shared)

    return sorted(feeds, key=likeness, reverse=True)
