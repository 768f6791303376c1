"""feedparser's loose entry dictionaries mapped onto the typed :class:`FeedEntry`:
the article link in the entry's own language, plain-text titles, the full HTML
content, categories, UTC timestamps, the author, the WordPress post id, translations
and the lead image."""

from __future__ import annotations

import calendar
import html
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.domain import FeedEntry

_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_WORDPRESS_GUID = re.compile(r"[?&]p=(\d{1,18})(?:&|$)")


def feed_entries(raw_entries: Iterable[Any], base: str, feed_language: str) -> Iterable[FeedEntry]:
    for raw in raw_entries:
        entry = _entry(raw, base, feed_language)
        if entry is not None:
            yield entry


def _entry(raw: Mapping[str, Any], base: str, feed_language: str) -> FeedEntry | None:
    """Map one feedparser entry; ``None`` when it has neither a usable link nor a guid."""
    guid = str(raw.get("id") or "").strip()
    url = _entry_link(raw, base, feed_language)
    if not url and not guid:
        return None
    content = _content_html(raw)
    summary = str(raw.get("summary") or "")
    if summary == content:  # feedparser copies content:encoded into summary when absent
        summary = ""
    return FeedEntry(
        guid=guid,
        url=url,
        title=detail_text(raw, "title"),
        summary_html=summary,
        content_html=content,
        categories=_categories(raw),
        published=_timestamp(raw.get("published_parsed")),
        updated=_timestamp(raw.get("updated_parsed")),
        author=_author(raw),
        wp_post_id=_wordpress_post_id(raw, guid),
        alternates=_alternates(raw, base, url),
        image_url=lead_image(raw, base),
    )


def _entry_link(raw: Mapping[str, Any], base: str, feed_language: str) -> str:
    """The article link: an alternate in the entry's own language, else the first one.

    feedparser's ``link`` is the *last* alternate, which for a multilingual Atom entry
    is an arbitrary translation.
    """
    alternates = [
        link
        for link in raw.get("links") or []
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    language = _entry_language(raw) or feed_language
    for link in alternates:
        hreflang = str(link.get("hreflang") or "")
        if not hreflang or (language and _same_language(hreflang, language)):
            return http_url(link.get("href"), base)
    if alternates:
        return http_url(alternates[0].get("href"), base)
    return http_url(raw.get("link"), base)


def _entry_language(raw: Mapping[str, Any]) -> str:
    detail = raw.get("title_detail") or {}
    return str(detail.get("language") or "")


def _same_language(left: str, right: str) -> bool:
    return left.lower().split("-")[0] == right.lower().split("-")[0]


def http_url(value: Any, base: str) -> str:
    """Resolve ``value`` against ``base``; only http(s) links are usable (no javascript:)."""
    if not value:
        return ""
    try:
        resolved = urljoin(base, str(value).strip())
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return ""
    return resolved if scheme in ("http", "https") else ""


def detail_text(raw: Mapping[str, Any], key: str) -> str:
    """Plain text of a text construct: tags stripped and entities decoded for HTML types."""
    value = str(raw.get(key) or "")
    detail = raw.get(f"{key}_detail") or {}
    content_type = str(detail.get("type") or "text/html")
    if "html" in content_type:
        value = html.unescape(_TAG.sub(" ", value))
    return " ".join(value.split())


def _content_html(raw: Mapping[str, Any]) -> str:
    """The full text: the first HTML content block, else the first block of any type."""
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    for content in contents:
        if "html" in str(content.get("type") or ""):
            return str(content["value"])
    return str(contents[0]["value"]) if contents else ""


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


def lead_image(raw: Mapping[str, Any], base: str) -> str:
    """The item's lead image: ``media:content`` (an image), then an image ``enclosure``,
    then ``media:thumbnail``; "" when the item has none.

    A ``media:content`` without ``medium`` or ``type`` counts when its URL looks like an
    image file; a video or audio one never does.
    """
    for media in raw.get("media_content") or []:
        kind = str(media.get("medium") or media.get("type") or "").lower()
        url = http_url(media.get("url"), base)
        looks_like_image = urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES)
        if url and (
            kind == "image" or kind.startswith("image/") or (not kind and looks_like_image)
        ):
            return url
    for enclosure in raw.get("enclosures") or []:
        if str(enclosure.get("type") or "").lower().startswith("image/"):
            url = http_url(enclosure.get("href") or enclosure.get("url"), base)
            if url:
                return url
    for thumbnail in raw.get("media_thumbnail") or []:
        url = http_url(thumbnail.get("url"), base)
        if url:
            return url
    return ""


def _categories(raw: Mapping[str, Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in raw.get("tags") or []:
        term = " ".join(html.unescape(str(tag.get("term") or "")).split())
        if term:
            seen.setdefault(term, None)
    return tuple(seen)


def _timestamp(parsed: Any) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC ``struct_time``s; make them aware."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _author(raw: Mapping[str, Any]) -> str:
    """The author's name; feedparser's ``author`` may carry an e-mail address."""
    detail = raw.get("author_detail") or {}
    name = detail.get("name") or raw.get("author") or ""
    return " ".join(html.unescape(_TAG.sub(" ", str(name))).split())


def _wordpress_post_id(raw: Mapping[str, Any], guid: str) -> int | None:
    """WordPress ids come from ``<post-id>`` (WordPress.com) or a ``?p=123`` guid."""
    element = str(raw.get("post-id") or "").strip()
    if element.isdigit() and len(element) <= 18:
        return int(element)
    match = _WORDPRESS_GUID.search(guid)
    return int(match.group(1)) if match else None


def _alternates(raw: Mapping[str, Any], base: str, own_url: str) -> tuple[tuple[str, str], ...]:
    """Translations: Atom ``link rel="alternate"`` with ``hreflang``, other than this one."""
    found: dict[str, str] = {}
    for link in raw.get("links") or []:
        hreflang = str(link.get("hreflang") or "").strip().lower()
        if link.get("rel", "alternate") != "alternate" or not hreflang:
            continue
        href = http_url(link.get("href"), base)
        if href and href != own_url:
            found.setdefault(hreflang, href)
    return tuple(found.items())
