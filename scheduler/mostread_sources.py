"""The most-read sources, each read into :class:`MostReadItem` values: a WordPress Popular
Posts (or WP REST posts) JSON answer, a page's "Most read" block picked by CSS, and the
bot's own tracked Read-more taps ranked by distinct readers."""

from __future__ import annotations

import codecs
import json
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import SelectorError
from lxml import etree

from bot.links import pack_url, unpack_url
from bot.mostread import MostReadItem
from bot.storage.articles import articles_at
from bot.storage.clicks import most_tapped_urls
from bot.storage.models import ArticleRow
from bot.text.html import html_to_text

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
_CHARSET = re.compile(r"charset\s*=\s*([\w.:\"'-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)


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


def parse_html_block(
    body: bytes, page_url: str, selector: str, limit: int, *, content_type: str = ""
) -> list[MostReadItem]:
    """Linked titles inside the CSS ``selector`` of a page, in page order.

    The selector may name the links (``.most-read a``) or their container
    (``.most-read``); relative links are resolved against the page, links to
    other schemes or without text are skipped, and a URL is listed once.
    Raises ValueError for an invalid selector or an unreadable page.
    """
    try:
        parser = lxml.html.HTMLParser(encoding=html_encoding(body, content_type))
        doc = lxml.html.document_fromstring(body, parser=parser)
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise ValueError(f"unreadable HTML: {exc}") from None
    try:
        matched = doc.cssselect(selector)
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None
    base = _base_url(doc, page_url)
    items: list[MostReadItem] = []
    seen: set[str] = set()
    for element in matched:
        anchors = [element] if element.tag == "a" else element.iter("a")
        for anchor in anchors:
            item = _link_item(anchor, base)
            if item is None or item.url in seen:
                continue
            seen.add(item.url)
            items.append(item)
            if len(items) >= limit:
                return items
    return items


def html_encoding(body: bytes, content_type: str) -> str | None:
    """The page's encoding: the HTTP charset, else the page's own ``<meta>`` (lxml reads
    it when given None), else UTF-8 rather than lxml's Latin-1 default."""
    match = _CHARSET.search(content_type)
    if match:
        name = match.group(1).strip("\"'").lower()
        try:
            return codecs.lookup(name).name
        except LookupError:
            log.info("most-read page: unknown charset %r, reading it as UTF-8", name)
            return "utf-8"
    if _META_CHARSET.search(body[:4096]):
        return None
    return "utf-8"


def _base_url(doc: lxml.html.HtmlElement, page_url: str) -> str:
    bases = doc.xpath("//base/@href")
    return urljoin(page_url, str(bases[0]).strip()) if bases else page_url


def _link_item(anchor: lxml.html.HtmlElement, base: str) -> MostReadItem | None:
    href = (anchor.get("href") or "").strip()
    if not href or href.startswith("#"):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    title = _SPACES.sub(" ", anchor.text_content()).strip() or (anchor.get("title") or "").strip()
    if not title:
        return None
    return MostReadItem(title[:300], url)


async def ranked_by_clicks(
    session: AsyncSession, language: str, since: datetime, limit: int
) -> list[MostReadItem]:
    """Articles of ``language`` by distinct readers who tapped Read more since ``since``.

    A click row is already unique per reader and day; counting distinct readers
    makes one reader tapping every day count once. Ties go to the newer tap.
    Only URLs of known articles are listed (their titles come from the articles).
    """
    urls = await most_tapped_urls(session, language, since, limit * 3)
    if not urls:
        return []
    # A tracked link carries the URL as an ASCII URI; the article may store it as an IRI.
    candidates = sorted(set(urls) | {pack_url(u) for u in urls})
    articles: dict[str, ArticleRow] = {}
    for article in await articles_at(session, candidates):
        articles.setdefault(unpack_url(article.url), article)
    items = [
        MostReadItem(articles[u].title, articles[u].url, articles[u].region_codes)
        for u in urls
        if u in articles
    ]
    return items[:limit]
