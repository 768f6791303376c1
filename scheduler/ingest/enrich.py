"""What a poll may read besides the feed: article pages, language links, the REST API.

Each is a bonus: a failure costs the summary's lead, the "Read in" buttons or the gap
fill, never the articles themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from bot.catalog import Feed
from bot.domain import ParsedFeed
from scheduler.discover import Discovery, discover, from_answer
from scheduler.extract_pool import PageRead, read_article
from scheduler.fetch import Fetcher, FetchError, FetchRefused, FetchResult
from scheduler.ingest.entries import Keyed, needs_page
from scheduler.translations import translations_for

log = logging.getLogger(__name__)

#: Article pages fetched at once for one poll (the fetcher also limits per host).
PAGE_FETCHES = 4
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


async def page_reads(
    fetcher: Fetcher,
    feed: Feed,
    fresh: Sequence[Keyed],
    announce: set[int],
    sites: Sequence[str],
) -> dict[str, PageRead]:
    """Article text (and language links) from the page, for pushed entries whose feed
    gives no summary."""
    wanted = [
        (key, entry)
        for index, (key, entry) in enumerate(fresh)
        if index in announce and needs_page(entry, feed.language, sites)
    ]
    slots = asyncio.Semaphore(PAGE_FETCHES)

    async def one(key: str, url: str) -> tuple[str, PageRead]:
        async with slots:
            return key, await page_read(fetcher, url)

    found = await asyncio.gather(*(one(key, entry.url) for key, entry in wanted))
    return {key: page for key, page in found if page.text or page.alternates or page.image}


async def page_read(fetcher: Fetcher, url: str) -> PageRead:
    """One article page, read in the extraction pool (off the event loop); an empty read
    when unreadable."""
    try:
        result = await fetcher.fetch(url, accept=HTML_ACCEPT)
    except FetchRefused:  # logged once per host: the feed's own text is used
        return PageRead()
    except FetchError as exc:
        log.warning("article page %s unreadable: %s", url, exc.reason)
        return PageRead()
    if result.status != 200:
        log.warning("article page %s answered HTTP %d", url, result.status)
        return PageRead()
    return await read_article(result.body, result.headers, result.url)


async def with_translations(fetcher: Fetcher, rest: str, fresh: list[Keyed]) -> list[Keyed]:
    """Fresh WordPress posts without language links get the ones WPML or Polylang
    gives in the REST API (one or two requests for the whole poll)."""
    ids = [e.wp_post_id for _, e in fresh if e.wp_post_id is not None and not e.alternates]
    if not ids:
        return fresh
    try:
        found = await translations_for(fetcher, rest, ids)
    except Exception:  # the buttons are a bonus: never lose the articles over them
        log.exception("translations from %s failed", rest)
        return fresh
    return [
        (key, replace(entry, alternates=found[entry.wp_post_id]))
        if entry.wp_post_id in found and not entry.alternates
        else (key, entry)
        for key, entry in fresh
    ]


async def discovered_api(
    fetcher: Fetcher, feed: Feed, stored: str | None, result: FetchResult, parsed: ParsedFeed
) -> Discovery | None:
    """A REST API the feed's answer points at, when it is new (none stored yet, or the
    ``Link`` header names another one); the home page is read at most until something
    is stored."""
    if not feed.discovers_wordpress:
        return None
    try:
        if stored:
            found = from_answer(result, page=feed.type == "html")
        else:
            found = await discover(fetcher, feed, result, parsed)
    except Exception:  # discovery is a bonus: it never costs a poll
        log.exception("WordPress discovery for %s failed", feed.url)
        return None
    if found is None or found.base == stored:
        return None
    log.info("%s: WordPress REST API at %s (found by %s)", feed.url, found.base, found.how)
    return found
