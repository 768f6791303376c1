"""Article text and metadata from an article page (trafilatura plus page metadata).

Feeds often carry only a teaser; the page holds the lead. trafilatura finds the
article's main text and leaves the page furniture (navigation, "Most read"
asides, "Support us" blocks, footers) out; the summarizer then takes the lead
sentences. Metadata comes from the page's own declarations first (OpenGraph,
``article:*`` meta tags, JSON-LD ``NewsArticle``), which carry exact times, and
from trafilatura's metadata as a fallback.

Everything here is synchronous and CPU-bound, and never raises: callers run it in a
worker process (:mod:`scheduler.extract_pool`) or a thread and get an empty
:class:`ExtractedPage` for a page that cannot be read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import use_config

from scheduler.charset import decode, header_charset, html_charset
from scheduler.translations import alternates_in

log = logging.getLogger(__name__)

#: Pages larger than this (characters) are cut before parsing: a lead is near the top.
MAX_PAGE_CHARS = 2_000_000
#: Text that makes trafilatura's fallback comparison pointless: several summaries' worth.
ENOUGH_TEXT = 1500
#: Elements beyond this are not worth a tree walk (trafilatura skips such documents).
MAX_TREE_SIZE = 50_000
# trafilatura's own signal-based timeout is off: the worker pool bounds a page's time
# (scheduler.extract_pool), and a thread cannot take signals.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "max_tree_size", str(MAX_TREE_SIZE))
_CONFIG.set("DEFAULT", "extraction_timeout", "0")
#: What the page head can give that trafilatura's metadata search would otherwise find.
_HEAD_FIELDS = frozenset({"title", "published", "section"})
_FURNITURE_TAGS = ("script", "style", "noscript", "svg", "form", "iframe", "nav", "aside")
_FURNITURE = lxml.etree.XPath(
    "//*[@id='comments' or @id='jp-relatedposts' or contains(@class, 'comments-area')"
    " or contains(@class, 'comment-list') or contains(@class, 'widget-area')]"
)
_ARTICLE_TYPES = frozenset(
    {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}
)


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What one article page yielded; ``text`` has one paragraph per line."""

    url: str
    title: str = ""
    text: str = ""
    description: str = ""
    published: datetime | None = None
    sections: tuple[str, ...] = ()  # region labels / categories the page declares
    language: str = ""
    image: str = ""  # the page's lead image (og:image, twitter:image, JSON-LD image)
    alternates: tuple[tuple[str, str], ...] = ()  # hreflang links: (language, URL)


def decode_page(body: bytes, headers: Mapping[str, str], url: str = "") -> str:
    """Bytes to text in the encoding they are really in (:mod:`scheduler.charset`).

    The label comes from the Content-Type header, else the page's ``<meta>``. A page
    whose bytes fit no encoding, or carry undecodable bytes, is not read (one log
    line; ``""``): an article is then posted from its feed's text, never with
    mojibake or U+FFFD.
    """
    content_type = headers.get("Content-Type") or headers.get("content-type")
    declared = header_charset(content_type) or html_charset(body)
    decoded = decode(body, declared)
    if decoded is None or decoded.lossy:
        problem = "undecodable bytes" if decoded else "text in no known encoding"
        log.warning("page %s not read: %s (declared %s)", url or "?", problem, declared or "none")
        return ""
    return decoded.text


def extract_page(html: str, url: str, *, metadata: bool = True) -> ExtractedPage:
    """The article on ``html`` (fetched from ``url``); empty fields when not found.

    Title, description, time and sections come from the page's head (OpenGraph,
    ``article:*``, JSON-LD). trafilatura's own metadata search (dates above all) costs
    about a third of the extraction, so it runs only when ``metadata`` is wanted and the
    head lacks one of them; a page read for a feed's article (which has them) passes
    ``metadata=False``.
    """
    try:
        return _extract(html[:MAX_PAGE_CHARS], url, metadata)
    except Exception as exc:  # hostile HTML must never take the poller down
        log.warning("could not extract article text from %s: %s: %s", url, type(exc).__name__, exc)
        return ExtractedPage(url=url)


def _extract(html: str, url: str, metadata: bool) -> ExtractedPage:
    if not html.strip():
        return ExtractedPage(url=url)
    tree = lxml.html.document_fromstring(html)
    if tree.xpath("count(//*)") > MAX_TREE_SIZE:
        log.warning("article page %s has more than %d elements; not read", url, MAX_TREE_SIZE)
        return ExtractedPage(url=url)
    declared = _declared_metadata(tree)
    alternates = alternates_in(tree, url)
    if metadata:
        document = _trafilatura(tree, url, metadata=not declared.keys() >= _HEAD_FIELDS)
    else:
        document = _text_only(tree, html, url)
    text = title = description = ""
    sections: tuple[str, ...] = ()
    published: datetime | None = None
    if document is not None and not isinstance(document, dict):
        text = document.text or ""
        title = document.title or ""
        description = document.description or ""
        sections = tuple(document.categories or ())
        published = _parse_time(document.date or "")
    return ExtractedPage(
        url=url,
        title=declared.get("title") or title,
        text=text,
        description=declared.get("description") or description,
        published=_parse_time(declared.get("published", "")) or published,
        sections=_unique((*_split(declared.get("section", "")), *sections)),
        language=(tree.get("lang") or "").split("-")[0].lower(),
        image=_absolute_http(declared.get("image", ""), url),
        alternates=alternates,
    )


def _trafilatura(tree: Any, url: str, *, metadata: bool, fast: bool = False) -> Any:
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        with_metadata=metadata,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
        config=_CONFIG,
    )


def _text_only(tree: Any, html: str, url: str) -> Any:
    """The article's text, as cheaply as it comes: page furniture dropped first, and
    trafilatura's fallback extractors (a second and third reading of the page to compare
    with) only when its own finds less than a summary's worth of text."""
    _strip_furniture(tree)
    document = _trafilatura(tree, url, metadata=False, fast=True)
    if document is not None and len(document.text or "") >= ENOUGH_TEXT:
        return document
    tree = lxml.html.document_fromstring(html)  # the first pass pruned this one
    _strip_furniture(tree)
    return _trafilatura(tree, url, metadata=False)


def _strip_furniture(tree: Any) -> None:
    """Drop what is never the article before trafilatura walks the page: scripts, styles,
    menus, asides, forms, and WordPress's comment, related-posts and widget areas.
    trafilatura leaves them out of the text anyway, but its pruning passes cost time in
    proportion to the whole tree (on a real WordPress page, most of it). Only when no
    metadata is searched: trafilatura finds dates and categories in these parts too."""
    lxml.etree.strip_elements(tree, *_FURNITURE_TAGS, with_tail=False)
    for element in _FURNITURE(tree):
        element.drop_tree()


def _declared_metadata(tree: Any) -> dict[str, str]:
    """OpenGraph / ``article:*`` meta tags, then JSON-LD, for the fields they share."""
    found: dict[str, str] = {}
    for name, key in (
        ("og:title", "title"),
        ("og:description", "description"),
        ("description", "description"),
        ("article:published_time", "published"),
        ("article:section", "section"),
        ("og:image", "image"),
        ("og:image:url", "image"),
        ("twitter:image", "image"),
    ):
        value = _meta(tree, name)
        if value and key not in found:
            found[key] = value
    for item in _json_ld_articles(tree):
        for field, key in (
            ("headline", "title"),
            ("description", "description"),
            ("datePublished", "published"),
            ("articleSection", "section"),
            ("image", "image"),
        ):
            value = _json_image(item.get(field)) if key == "image" else _json_text(item.get(field))
            if value and key not in found:
                found[key] = value
    return found


def _json_text(value: Any) -> str:
    """A JSON-LD string field (a list of strings is joined with commas)."""
    if isinstance(value, list):
        return ", ".join(v.strip() for v in value if isinstance(v, str) and v.strip())
    return value.strip() if isinstance(value, str) else ""


def _json_image(value: Any) -> str:
    """JSON-LD ``image``: a URL, an ``ImageObject`` or a list of either (the first one)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or ""
    return value.strip() if isinstance(value, str) else ""


def _absolute_http(value: str, base: str) -> str:
    """``value`` resolved against the page URL when it is http(s), else ""."""
    if not value:
        return ""
    try:
        resolved = urljoin(base, value.strip())
    except ValueError:
        return ""
    return resolved if urlsplit(resolved).scheme in ("http", "https") else ""


def _meta(tree: Any, name: str) -> str:
    for attribute in ("property", "name"):
        for element in tree.iterfind(f".//meta[@{attribute}='{name}']"):
            content = (element.get("content") or "").strip()
            if content:
                return content
    return ""


def json_ld_objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page (``@graph`` members included); bad JSON skipped."""
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        yield from _objects(data)


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    for item in items[:100]:
        if not isinstance(item, dict):
            continue
        yield item
        graph = item.get("@graph")
        if isinstance(graph, list):
            yield from (member for member in graph[:100] if isinstance(member, dict))


def _json_ld_articles(tree: Any) -> Iterator[dict[str, Any]]:
    for item in json_ld_objects(tree):
        kinds = item.get("@type")
        names = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(n, str) and n.lower() in _ARTICLE_TYPES for n in names):
            yield item


def _parse_time(text: str) -> datetime | None:
    """ISO 8601 (as in meta tags and JSON-LD) to aware UTC; ``None`` when unreadable."""
    value = text.strip()
    if not value:
        return None
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
