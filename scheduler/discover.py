"""WordPress found by itself: the REST API of a feed whose catalog entry names none.

A WordPress feed shows only its newest items; gap fill and removal checks need the
site's REST API (:mod:`scheduler.wordpress`). WordPress says where it is in three
ways, tried in this order:

1. the ``Link: <…/wp-json/>; rel="https://api.w.org/"`` header, which WordPress sends
   with every front-end answer, its feeds included;
2. ``<link rel="https://api.w.org/" href="…/wp-json/">`` in a page (a section page
   polled as a feed, or the feed's home page);
3. the feed's ``<generator>https://wordpress.org/?v=…</generator>``: then the home
   page (on the feed's own host) is read for 1 or 2, and failing that the REST API is
   taken to be at WordPress's default place beside the feed (``…/ru/feed/`` →
   ``…/ru/wp-json/``).

A catalog ``wordpress =`` URL overrides all this and ``wordpress = false`` turns it off.
What was found is stored on the feed row, so it is looked for again only when the
feed's answers point elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml.etree import ParserError

from bot.catalog import Feed
from bot.domain import ParsedFeed
from scheduler.fetch import Fetcher, FetchError, FetchResult

log = logging.getLogger(__name__)

API_REL = "https://api.w.org/"
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_LINK_VALUE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.IGNORECASE)
#: Only this much of a page is searched for the ``<link>`` (it is in the ``<head>``).
HEAD_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Discovery:
    """A REST base (``…/wp-json/wp/v2/``) and how it was found, for logs and ``check``."""

    base: str
    how: str


def rest_base(root: str) -> str | None:
    """``…/wp-json/`` → ``…/wp-json/wp/v2/``; ``None`` for the ``?rest_route=`` form,
    which gap fill cannot address, or anything that is not an http(s) URL."""
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        return None
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/wp/v2/", fragment=""))


def api_root_from_headers(headers: Mapping[str, str], base_url: str) -> str | None:
    """The REST root a ``Link`` header names with ``rel="https://api.w.org/"``."""
    getall = getattr(headers, "getall", None)
    values: list[str] = (
        list(getall("Link", [])) if getall is not None else [headers.get("Link") or ""]
    )
    for value in values:
        for match in _LINK_VALUE.finditer(value or ""):
            target, params = str(match.group(1)), str(match.group(2))
            for rel in _REL.finditer(params):
                names = next((r for r in rel.groups() if r), "").split()
                if API_REL in names:
                    return urljoin(base_url, target.strip())
    return None


def api_root_from_html(body: bytes, base_url: str) -> str | None:
    """The REST root a page's ``<link rel="https://api.w.org/">`` names."""
    try:
        tree = lxml.html.fromstring(body[:HEAD_BYTES])
    except (ParserError, ValueError):
        return None
    for href in tree.xpath(
        "//link[contains(concat(' ', @rel, ' '), ' https://api.w.org/ ')]/@href"
    ):
        if isinstance(href, str) and href.strip():
            return urljoin(base_url, href.strip())
    return None


def is_wordpress(parsed: ParsedFeed) -> bool:
    """The feed says WordPress made it (``<generator>``)."""
    return "wordpress.org" in parsed.generator.lower() or parsed.generator.startswith("WordPress")


def beside_feed(feed_url: str) -> str:
    """WordPress's default REST root for a feed URL: ``…/ru/feed/`` → ``…/ru/wp-json/``."""
    parts = urlsplit(feed_url)
    path = parts.path
    cut = path.rfind("/feed")
    prefix = path[:cut] if cut >= 0 else ""
    return urlunsplit((parts.scheme, parts.netloc, prefix.rstrip("/") + "/wp-json/", "", ""))


def from_answer(result: FetchResult, *, page: bool) -> Discovery | None:
    """What the feed's own answer says: its ``Link`` header, or (a page) its ``<link>``."""
    root = api_root_from_headers(result.headers, result.url)
    how = "the feed's Link header"
    if root is None and page:
        root, how = api_root_from_html(result.body, result.url), "the page's api.w.org link"
    base = rest_base(root) if root else None
    return Discovery(base, how) if base else None


async def discover(
    fetcher: Fetcher, feed: Feed, result: FetchResult, parsed: ParsedFeed
) -> Discovery | None:
    """The REST API of a feed, from its answer, or for a WordPress feed from its home page
    or WordPress's default place; ``None`` when the feed does not look like WordPress."""
    found = from_answer(result, page=feed.type == "html")
    if found is not None or feed.type == "html" or not is_wordpress(parsed):
        return found
    home = parsed.link or urljoin(result.url, "/")
    if urlsplit(home).hostname == urlsplit(result.url).hostname:
        found = await _from_home_page(fetcher, home)
    if found is not None:
        return found
    base = rest_base(beside_feed(result.url))
    return Discovery(base, "the feed's generator (WordPress's default REST path)") if base else None


async def _from_home_page(fetcher: Fetcher, home: str) -> Discovery | None:
    try:
        page = await fetcher.fetch(home, accept=HTML_ACCEPT)
    except FetchError as exc:
        log.info("home page %s unreadable for REST discovery: %s", home, exc.reason)
        return None
    if page.status != 200:
        return None
    root = api_root_from_headers(page.headers, page.url)
    how = "the home page's Link header"
    if root is None:
        root, how = api_root_from_html(page.body, page.url), "the home page's api.w.org link"
    base = rest_base(root) if root else None
    return Discovery(base, how) if base else None


def effective_base(feed: Feed, stored: str | None) -> str | None:
    """The REST base a feed uses: the catalog's, else the one found (unless turned off)."""
    if feed.wordpress_base:
        return feed.wordpress_base
    return stored if feed.discovers_wordpress else None


def describe(feed: Feed, stored: str | None, how: str | None = None) -> str:
    """One line for ``newsbot check --online``: which REST API the feed uses, and why."""
    if feed.wordpress is False:
        return "WordPress REST API off (wordpress = false)"
    if feed.wordpress_base:
        return f"WordPress REST API {feed.wordpress_base} (catalog)"
    if stored:
        return f"WordPress REST API {stored} (found by {how or 'an earlier poll'})"
    return "no WordPress REST API found (gap fill and removal checks off)"
