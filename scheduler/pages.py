"""Sites without a feed: a section page read like one (catalog ``type = "html"``).

The section page lists articles; their links are found with the catalog's CSS
selector (``links``) and, when the page declares one, a JSON-LD ``ItemList``.
Only links not yet known are followed: each article page is read for its title,
publication time, region labels and lead (OpenGraph / JSON-LD / trafilatura, see
:mod:`scheduler.extract`), and becomes a :class:`FeedEntry` that flows through the
same pipeline as a feed item (keyed by its canonical URL).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import SelectorError

from bot.domain import FeedEntry, ParsedFeed
from scheduler.extract import ExtractedPage, decode_page, json_ld_objects
from scheduler.extract_pool import read_listed
from scheduler.fetch import Fetcher, FetchError, FetchRefused, FetchResult
from scheduler.identity import canonical_url

log = logging.getLogger(__name__)

#: Article pages read per poll at most (a section page lists a few dozen at most).
MAX_ARTICLES = 30
#: Article pages fetched at once.
ARTICLE_FETCHES = 4

UnknownUrls = Callable[[Sequence[str]], Awaitable[set[str]]]


async def read_section(
    result: FetchResult,
    selector: str,
    fetcher: Fetcher,
    unknown: UnknownUrls,
    *,
    accept: str,
) -> ParsedFeed:
    """The new articles listed on a fetched section page, newest (first listed) first.

    ``unknown`` filters the links down to those not stored yet, so known articles
    are never fetched again. A page with no matching links is an error (the site
    changed its layout): the poll fails and, repeated, alerts the editors.
    """
    page = decode_page(result.body, result.headers, result.url)
    links, error = await asyncio.to_thread(find_links, page, result.url, selector)
    if error:
        return ParsedFeed(title="", entries=(), error=error)
    wanted = set(await unknown(links))
    todo = [link for link in links if link in wanted][:MAX_ARTICLES]
    slots = asyncio.Semaphore(ARTICLE_FETCHES)

    async def one(link: str) -> FeedEntry | None:
        async with slots:
            return await _article(fetcher, link, accept)

    found = await asyncio.gather(*(one(link) for link in todo))
    entries = tuple(entry for entry in found if entry is not None)
    return ParsedFeed(title="", entries=entries, link=result.url)


def find_links(page: str, base: str, selector: str) -> tuple[list[str], str | None]:
    """Article URLs on a section page (selector matches, then JSON-LD ItemList), in order.

    Returns ``(links, error)``; ``error`` says why nothing could be found.
    """
    if not page.strip():
        return [], "empty section page"
    try:
        tree = lxml.html.document_fromstring(page)
        matched = tree.cssselect(selector)
    except SelectorError as exc:
        return [], f"links selector {selector!r} is invalid: {exc}"
    except Exception as exc:  # lxml on hostile markup
        return [], f"section page unreadable: {type(exc).__name__}: {exc}"
    hrefs = [_href(element) for element in matched]
    hrefs.extend(_item_list_urls(tree))
    links = _same_site_links(hrefs, base)
    if not links:
        return [], f"no article links match {selector!r} on the section page"
    return links, None


def _href(element: lxml.html.HtmlElement) -> str:
    """The link of a matched element: its own ``href`` or its first descendant link's."""
    href = element.get("href")
    if href is None:
        inner = next(element.iterfind(".//a[@href]"), None)
        href = inner.get("href") if inner is not None else None
    return (href or "").strip()


def _item_list_urls(tree: lxml.html.HtmlElement) -> list[str]:
    """URLs of a JSON-LD ``ItemList`` (``itemListElement`` of ListItems or bare URLs)."""
    urls: list[str] = []
    for item in json_ld_objects(tree):
        if item.get("@type") != "ItemList":
            continue
        members = item.get("itemListElement")
        for member in members[:200] if isinstance(members, list) else ():
            if isinstance(member, str):
                urls.append(member)
            elif isinstance(member, dict):
                url = member.get("url")
                inner = member.get("item")
                if not isinstance(url, str) and isinstance(inner, dict):
                    url = inner.get("url") or inner.get("@id")
                if isinstance(url, str):
                    urls.append(url)
    return urls


def _same_site_links(hrefs: Sequence[str], base: str) -> list[str]:
    """Absolute http(s) links, first occurrence of each canonical URL kept."""
    seen: set[str] = set()
    links: list[str] = []
    for href in hrefs:
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        key = canonical_url(url)
        if key not in seen:
            seen.add(key)
            links.append(url)
    return links


async def _article(fetcher: Fetcher, url: str, accept: str) -> FeedEntry | None:
    """One article page as an entry; ``None`` (logged) when it cannot be read."""
    try:
        result = await fetcher.fetch(url, accept=accept)
    except FetchRefused:  # logged once per host
        return None
    except FetchError as exc:
        log.warning("article page %s unreadable: %s", url, exc.reason)
        return None
    if result.status != 200:
        log.warning("article page %s answered HTTP %d", url, result.status)
        return None
    page = await read_listed(result.body, result.headers, url)
    if not page.title:
        log.warning("article page %s has no title; skipped", url)
        return None
    return page_entry(page)


def page_entry(page: ExtractedPage) -> FeedEntry:
    """An extracted page as a feed entry (text escaped back into paragraphs)."""
    content = "".join(f"<p>{html.escape(line)}</p>" for line in page.text.splitlines() if line)
    return FeedEntry(
        guid="",
        url=page.url,
        title=html.escape(page.title),
        summary_html=html.escape(page.description),
        content_html=content,
        categories=page.sections,
        published=page.published,
        image_url=page.image,
    )
