"""Which entries of a feed are new, and which of them are pushed: pure rules.

- entries are keyed by identity (:mod:`scheduler.identity`); a document that gives one
  key to entries with different links is keyed by link and title instead;
- a known guid whose article has another URL *and* another title is a reused guid (a
  CMS numbering its items from 1 again), re-keyed rather than taken for the old article;
- on a first poll only the catalog's ``backlog`` is pushed, later everything but items
  older than the feed's ``horizon`` (those are recorded, not pushed);
- a poll of a known feed that finds none of its entries known has a gap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bot.catalog import Feed
from bot.clock import to_naive_utc
from bot.domain import FeedEntry
from bot.text.html import html_to_text
from bot.text.summarize import is_teaser
from scheduler.identity import canonical_url, entry_key, fallback_key

log = logging.getLogger(__name__)

Keyed = tuple[str, FeedEntry]


def unique_entries(entries: Sequence[FeedEntry]) -> list[Keyed]:
    """Entries keyed by identity, first occurrence kept (a feed may repeat an item).

    When one document gives the same key to entries with different URLs, its guids
    are not identities (every item "1", say): the whole document is keyed by
    :func:`fallback_key` instead, so no item hides another.
    """
    keyed = [(entry_key(entry), entry) for entry in entries]
    urls: dict[str, str] = {}
    if any(urls.setdefault(k, canonical_url(e.url)) != canonical_url(e.url) for k, e in keyed):
        log.warning("feed reuses guids for different links; keyed by link and title instead")
        keyed = [(fallback_key(entry), entry) for entry in entries]
    out: dict[str, FeedEntry] = {}
    for key, entry in keyed:
        out.setdefault(key, entry)
    return list(out.items())


def candidates(entries: Sequence[Keyed], stored: dict[str, tuple[str, str]]) -> list[Keyed]:
    """Entries not stored under their key (``stored``: key -> (canonical URL, title));
    an entry behind a reused guid comes back under its :func:`fallback_key`."""
    out: list[Keyed] = []
    for key, entry in entries:
        if key in stored:
            if not reused_guid(key, stored[key], entry):
                continue
            key = fallback_key(entry)
        out.append((key, entry))
    return out


def reused_guid(key: str, stored: tuple[str, str], entry: FeedEntry) -> bool:
    """A guid key seen before for an article with another URL and another title."""
    if not key.startswith("guid:"):
        return False  # WordPress post ids and URLs are not reused
    stored_url, stored_title = stored
    if stored_url == canonical_url(entry.url):
        return False
    return plain_title(stored_title) != plain_title(html_to_text(entry.title)[:1000])


def plain_title(title: str) -> str:
    return " ".join(title.casefold().split())


def has_gap(
    feed: Feed, initialized: bool, entries: Sequence[Keyed], fresh: Sequence[Keyed]
) -> bool:
    """A known RSS feed none of whose entries was seen before: articles may be missing."""
    return feed.type == "rss" and initialized and bool(entries) and len(fresh) == len(entries)


def announced(feed: Feed, initialized: bool, fresh: Sequence[Keyed], now: datetime) -> set[int]:
    """Which fresh entries are pushed: on a first poll only the catalog's ``backlog``
    (the newest few, whatever their age: the operator asked for them), later all but
    those older than the feed's horizon (those are recorded, not pushed)."""
    if not initialized:
        return set(range(min(feed.backlog, len(fresh))))
    oldest = now - timedelta(hours=feed.horizon)
    chosen = set()
    for index, (_, entry) in enumerate(fresh):
        published = to_naive_utc(entry.published)
        if published is None or published >= oldest:
            chosen.add(index)
    return chosen


def needs_page(entry: FeedEntry, lang: str, sites: Sequence[str]) -> bool:
    """No full text in the feed and no real description (none, or a teaser cut short):
    the page has the lead."""
    if entry.content_html.strip() or not entry.url.startswith(("http://", "https://")):
        return False
    description = html_to_text(entry.summary_html) if entry.summary_html else ""
    return is_teaser(description, html_to_text(entry.title), sites, lang)


def host_name(url: str) -> str:
    """``jam-news`` for ``https://www.jam-news.net/…``: sites name themselves after it."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    label = host.split(".")[0]
    return "" if label.isdigit() or label == "localhost" else label


def newest_first(entries: Iterable[Keyed]) -> list[Keyed]:
    """Order by publication time, newest first; undated entries keep their place at the end."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda item: _aware(item[1].published) or oldest, reverse=True)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
