"""Language versions of a story from the WordPress REST API (WPML and Polylang).

A multilingual site links a story to its translations with ``hreflang`` links: in an
Atom feed (:mod:`scheduler.parse`), in the article page's ``<head>``
(:func:`page_alternates`, read when the page is fetched anyway), or, for WordPress, in the
CMS rather than its RSS feeds. Its REST API says so in one of two ways:

- WPML (its REST add-on): ``"wpml_translations": [{"locale": "ru_RU", "id": 12,
  "href": "https://site/ru/…"}, …]`` beside ``"wpml_current_locale"``;
- Polylang: ``"lang": "en"`` and ``"translations": {"en": 11, "ru": 12}`` (post ids,
  the post itself included), whose links are read with one more request.

:func:`translations_for` asks for the new posts of a poll in one request (and their
Polylang translations in one more) and returns ``(language, url)`` pairs per post id,
stored as the article's alternates: posts then carry "Read in: RU · KA" buttons.
Failures cost the buttons only, never the articles.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urljoin

import lxml.html
from lxml.etree import ParserError

from scheduler.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)

#: Post ids per REST request (WordPress caps ``per_page`` at 100).
BATCH = 100
_FIELDS = "id,link,lang,translations,wpml_current_locale,wpml_translations"
JSON_ACCEPT = "application/json"
#: Only this much of a page is searched for ``hreflang`` links (they are in the ``<head>``).
HEAD_CHARS = 256 * 1024

Alternates = tuple[tuple[str, str], ...]


def page_alternates(html: str, url: str) -> Alternates:
    """An article page's ``<link rel="alternate" hreflang="ru" href="…">`` links
    (``x-default`` left out; the post builder drops the page's own language)."""
    try:
        tree = lxml.html.fromstring(html[:HEAD_CHARS])
    except (ParserError, ValueError):
        return ()
    return alternates_in(tree, url)


def alternates_in(tree: Any, url: str) -> Alternates:
    """:func:`page_alternates` of a page already parsed (the extraction pool's tree)."""
    found: dict[str, str] = {}
    for link in tree.iter("link"):
        rel = str(link.get("rel") or "").lower().split()
        lang = str(link.get("hreflang") or "").strip().lower()
        href = urljoin(url, str(link.get("href") or "").strip())
        wanted = "alternate" in rel and lang and lang != "x-default"
        if wanted and href.startswith(("http://", "https://")):
            found.setdefault(lang, href)
    return tuple(found.items())


def wpml_alternates(post: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(locale, href)`` of the other versions WPML lists (its own locale left out)."""
    own = post.get("wpml_current_locale")
    found = []
    items = post.get("wpml_translations")
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        locale, href = item.get("locale"), item.get("href")
        if not isinstance(locale, str) or not locale or locale == own:
            continue
        if isinstance(href, str) and href.startswith(("http://", "https://")):
            found.append((locale, href))
    return found


def polylang_ids(post: Mapping[str, Any]) -> dict[str, int]:
    """``{language: post id}`` of the other versions Polylang lists."""
    own_id, own_lang = post.get("id"), post.get("lang")
    translations = post.get("translations")
    found: dict[str, int] = {}
    if not isinstance(translations, dict):
        return found
    for lang, other in translations.items():
        valid = isinstance(other, int) and not isinstance(other, bool) and other > 0
        if isinstance(lang, str) and valid and other != own_id and lang != own_lang:
            found[lang] = other
    return found


async def translations_for(
    fetcher: Fetcher, base: str, post_ids: Sequence[int]
) -> dict[int, Alternates]:
    """The other language versions of each post, by post id (posts with none left out)."""
    posts = await _posts(fetcher, base, post_ids, _FIELDS)
    pending = {pid: polylang_ids(post) for pid, post in posts.items()}
    wanted = sorted({other for ids in pending.values() for other in ids.values()})
    links = {pid: post.get("link") for pid, post in (await _posts(fetcher, base, wanted)).items()}
    found: dict[int, Alternates] = {}
    for pid, post in posts.items():
        pairs = dict(wpml_alternates(post))
        for lang, other in pending[pid].items():
            link = links.get(other)
            if isinstance(link, str) and link.startswith(("http://", "https://")):
                pairs.setdefault(lang, link)
        if pairs:
            found[pid] = tuple(pairs.items())
    return found


async def _posts(
    fetcher: Fetcher, base: str, ids: Sequence[int], fields: str = "id,link"
) -> dict[int, Mapping[str, Any]]:
    """Posts by id, read ``BATCH`` at a time; a failed batch is logged and skipped."""
    found: dict[int, Mapping[str, Any]] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        query = urlencode(
            {
                "include": ",".join(str(i) for i in chunk),
                "per_page": len(chunk),
                "_fields": fields,
            }
        )
        url = f"{base.rstrip('/')}/posts?{query}"
        for post in await _listing(fetcher, url):
            pid = post.get("id")
            if isinstance(pid, int) and not isinstance(pid, bool):
                found[pid] = post
    return found


async def _listing(fetcher: Fetcher, url: str) -> Iterable[Mapping[str, Any]]:
    try:
        result = await fetcher.fetch(url, accept=JSON_ACCEPT)
    except FetchError as exc:
        log.warning("translations unreadable at %s: %s", url, exc.reason)
        return ()
    if result.status != 200:
        log.warning("translations at %s: HTTP %d", url, result.status)
        return ()
    try:
        data = json.loads(result.body)
    except (ValueError, RecursionError):
        log.warning("translations at %s: not JSON", url)
        return ()
    return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else ()
