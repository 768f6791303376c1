"""Gap fill from the WordPress REST API (``/wp-json/wp/v2/posts``).

A WordPress feed shows only its newest items (10 by default). When a poll finds
none of them known, more were published since the last poll than the feed can
show (a burst, or the bot was down): the REST API lists every post published
after a date, page by page, and those posts fill the gap. The posts become
:class:`FeedEntry` values with the post id set, so their identity
(``wp:<host>:<id>``, :func:`scheduler.identity.entry_key`) is the same as when
the feed's ``?p=<id>`` guid is seen: nothing is taken twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bot.domain import FeedEntry
from scheduler.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)

PER_PAGE = 100
#: More than this many pages (10 000 posts) is not a gap but a misconfiguration.
MAX_PAGES = 100
#: ``after`` is compared with the site's local time; step back far enough for any zone.
AFTER_MARGIN = timedelta(hours=26)
JSON_ACCEPT = "application/json"


@dataclass(frozen=True, slots=True)
class GapFill:
    """Posts found (newest first), and why the walk stopped early, if it did."""

    entries: tuple[FeedEntry, ...]
    error: str | None = None


def posts_url(base: str, after: datetime, page: int) -> str:
    """The REST query for one page of posts published after ``after``."""
    stamp = after.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    query = urlencode(
        {"after": stamp, "per_page": PER_PAGE, "page": page, "orderby": "date", "_embed": "1"}
    )
    return f"{base.rstrip('/')}/posts?{query}"


async def posts_since(
    fetcher: Fetcher, base: str, since: datetime, language: str | None = None
) -> GapFill:
    """Every post published after ``since`` (minus a time-zone margin), newest first.

    With ``language``, posts a multilingual site says are in another language (Polylang's
    ``lang``, WPML's ``wpml_current_locale``) are left out: one REST API may list every
    edition, and each belongs to its own feed. Stops on an empty page, at
    ``X-WP-TotalPages``, at :data:`MAX_PAGES`, or at the first failure (what was read so
    far is kept: a partial fill beats none).
    """
    after = since - AFTER_MARGIN
    found: dict[int, FeedEntry] = {}
    for page in range(1, MAX_PAGES + 1):
        url = posts_url(base, after, page)
        try:
            result = await fetcher.fetch(url, accept=JSON_ACCEPT)
        except FetchError as exc:
            return GapFill(_newest_first(found), f"REST API unreachable: {exc.reason}")
        if result.status == 400 and page > 1:  # WordPress: page number past the end
            break
        if result.status != 200:
            return GapFill(_newest_first(found), f"REST API answered HTTP {result.status}")
        posts = _decode(result.body)
        if posts is None:
            return GapFill(_newest_first(found), "REST API answered something other than a list")
        for post in posts:
            entry = post_entry(post) if in_language(post, language) else None
            if entry is not None and entry.wp_post_id is not None:
                found.setdefault(entry.wp_post_id, entry)
        if not posts or page >= _total_pages(result.headers, page):
            break
    return GapFill(_newest_first(found))


async def post_by_id(
    fetcher: Fetcher, base: str, post_id: int, language: str | None = None
) -> FeedEntry | None:
    """One published post by id (``{base}posts/<id>``), or ``None`` (logged) if not there
    or, with ``language``, in another language (another feed's post)."""
    url = f"{base.rstrip('/')}/posts/{post_id}?_embed=1"
    try:
        result = await fetcher.fetch(url, accept=JSON_ACCEPT)
    except FetchError as exc:
        log.warning("REST post %d at %s unreadable: %s", post_id, base, exc.reason)
        return None
    if result.status != 200:
        log.info("REST post %d not at %s (HTTP %d)", post_id, base, result.status)
        return None
    try:
        data = json.loads(result.body)
    except (ValueError, RecursionError):
        log.warning("REST post %d at %s is not JSON", post_id, base)
        return None
    entry = post_entry(data) if in_language(data, language) else None
    return entry if entry is not None and entry.wp_post_id == post_id else None


def in_language(post: Any, language: str | None) -> bool:
    """Whether a post is in ``language``, as far as the site says (no word: it is)."""
    if not language or not isinstance(post, dict):
        return True
    declared = post.get("lang") or post.get("wpml_current_locale")
    if not isinstance(declared, str) or not declared.strip():
        return True
    return _base(declared) == _base(language)


def _base(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-")[0]


def _decode(body: bytes) -> list[Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, list) else None


def _total_pages(headers: Mapping[str, str], page: int) -> int:
    raw = (headers.get("X-WP-TotalPages") or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 7 else MAX_PAGES


def _newest_first(found: Mapping[int, FeedEntry]) -> tuple[FeedEntry, ...]:
    oldest = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(found.values(), key=lambda e: e.published or oldest, reverse=True))


def post_entry(post: Any) -> FeedEntry | None:
    """One REST post as a feed entry; ``None`` for anything that is not a usable post."""
    if not isinstance(post, dict):
        return None
    post_id = post.get("id")
    link = post.get("link")
    if not isinstance(post_id, int) or isinstance(post_id, bool) or post_id <= 0:
        return None
    if not isinstance(link, str) or not link.startswith(("http://", "https://")):
        return None
    guid = _rendered(post.get("guid")) or link
    return FeedEntry(
        guid=guid,
        url=link,
        title=_rendered(post.get("title")),
        summary_html=_rendered(post.get("excerpt")),
        content_html=_rendered(post.get("content")),
        categories=_term_names(post),
        published=_gmt(post.get("date_gmt")),
        updated=_gmt(post.get("modified_gmt")),
        wp_post_id=post_id,
        image_url=_featured_image(post),
    )


def _featured_image(post: Mapping[str, Any]) -> str:
    """The post's featured image: ``_embedded["wp:featuredmedia"]`` (with ``_embed``), else
    Jetpack's ``jetpack_featured_media_url``; "" when neither is an http(s) URL."""
    embedded = post.get("_embedded")
    media = embedded.get("wp:featuredmedia") if isinstance(embedded, dict) else None
    first = media[0] if isinstance(media, list) and media else None
    candidates = [
        first.get("source_url") if isinstance(first, dict) else None,
        post.get("jetpack_featured_media_url"),
    ]
    for url in candidates:
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url
    return ""


def _rendered(value: Any) -> str:
    """``{"rendered": "..."}`` (or a bare string) to a string."""
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


def _gmt(value: Any) -> datetime | None:
    """WordPress ``*_gmt`` fields are UTC without an offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _term_names(post: Mapping[str, Any]) -> tuple[str, ...]:
    """Category and tag names from ``_embedded["wp:term"]`` (present with ``_embed``)."""
    embedded = post.get("_embedded")
    groups = embedded.get("wp:term") if isinstance(embedded, dict) else None
    names: list[str] = []
    for group in groups if isinstance(groups, list) else ():
        for term in group if isinstance(group, list) else ():
            name = term.get("name") if isinstance(term, dict) else None
            if isinstance(name, str) and name.strip():
                names.append(name.strip())
    return tuple(dict.fromkeys(names))
