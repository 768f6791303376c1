"""Probes for ``newsbot check --online``: does each feed and most-read source answer?

The same fetcher and parsers as the poller, once per source, storing nothing: a feed
answers when it returns 2xx and parses to at least one item (an HTML section page:
at least one article link); a most-read source when it lists at least one article.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from bot.catalog import Catalog, Feed
from bot.domain import ParsedFeed
from bot.preflight import Finding, ok, problem
from scheduler.discover import describe, discover
from scheduler.extract import decode_page
from scheduler.fetch import FEED_ACCEPT, Fetcher, FetchError, FetchResult
from scheduler.ingest import HTML_ACCEPT
from scheduler.mostread_sources import parse_html_block, parse_popular_posts
from scheduler.pages import find_links
from scheduler.parse import is_failure, parse_feed

PROBES_AT_ONCE = 8


async def probe_sources(fetcher: Fetcher, catalog: Catalog) -> list[Finding]:
    """Every feed, then every most-read URL, a few at a time; one finding each."""
    slots = asyncio.Semaphore(PROBES_AT_ONCE)

    async def bounded(job: Coroutine[Any, Any, Finding]) -> Finding:
        async with slots:
            return await job

    jobs = [probe_feed(fetcher, feed) for feed in catalog.feeds]
    jobs += [probe_mostread(fetcher, catalog, lang, url) for lang, url in mostread_urls(catalog)]
    return list(await asyncio.gather(*(bounded(job) for job in jobs)))


async def probe_feed(fetcher: Fetcher, feed: Feed) -> Finding:
    subject = f"feed {feed.url}"
    try:
        result = await fetcher.fetch(
            feed.url, accept=HTML_ACCEPT if feed.type == "html" else FEED_ACCEPT
        )
    except FetchError as exc:
        return problem(subject, f"no answer: {exc.reason}")
    refused = _status_problem(result)
    if refused:
        return problem(subject, refused)
    if feed.type == "html":
        page = decode_page(result.body, result.headers)
        links, error = await asyncio.to_thread(find_links, page, result.url, feed.links)
        if error:
            return problem(subject, error)
        api = await wordpress_line(fetcher, feed, result, ParsedFeed("", ()))
        return ok(subject, f"section page with {len(links)} article links; {api}")
    parsed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url)
    if is_failure(parsed):
        return problem(subject, f"not a readable feed: {parsed.error}")
    if not parsed.entries:
        return problem(subject, "answers, but lists no items")
    dates = [d for e in parsed.entries if (d := e.published or e.updated) is not None]
    api = await wordpress_line(fetcher, feed, result, parsed)
    return ok(subject, f"{_count(len(parsed.entries), 'item')}, newest {_newest(dates)}; {api}")


async def wordpress_line(
    fetcher: Fetcher, feed: Feed, result: FetchResult, parsed: ParsedFeed
) -> str:
    """Which WordPress REST API the poller would use for gap fill and removal checks."""
    found = await discover(fetcher, feed, result, parsed) if feed.discovers_wordpress else None
    return describe(feed, found.base if found else None, found.how if found else None)


def mostread_urls(catalog: Catalog) -> list[tuple[str, str]]:
    """(language, URL) of the most-read source, for the sources that fetch one."""
    source = catalog.mostread
    if source.source not in ("wordpress-popular-posts", "html"):
        return []
    if isinstance(source.url, str):
        return [("all", source.url)] if source.url else []
    return [(lang, url) for lang, url in source.url.items() if url]


async def probe_mostread(fetcher: Fetcher, catalog: Catalog, lang: str, url: str) -> Finding:
    source = catalog.mostread
    subject = f"most-read source ({lang}) {url}"
    html = source.source == "html"
    try:
        result = await fetcher.fetch(url, accept=HTML_ACCEPT if html else "application/json")
        refused = _status_problem(result)
        if refused:
            return problem(subject, refused)
        if html:
            parse = functools.partial(
                parse_html_block,
                result.body,
                result.url,
                source.selector,
                source.limit,
                content_type=result.headers.get("Content-Type", ""),
            )
            items = await asyncio.to_thread(parse)
        else:
            items = parse_popular_posts(result.body, source.limit)
    except FetchError as exc:
        return problem(subject, f"no answer: {exc.reason}")
    except ValueError as exc:
        return problem(subject, f"unreadable: {exc}")
    if not items:
        return problem(subject, "answers, but lists no articles")
    return ok(subject, f"{_count(len(items), 'article')}, first {items[0].title!r}")


def _status_problem(result: FetchResult) -> str | None:
    if 200 <= result.status < 300:
        return None
    return f"answered HTTP {result.status}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _newest(dates: list[datetime]) -> str:
    return max(dates).strftime("%Y-%m-%d %H:%M UTC") if dates else "undated"
