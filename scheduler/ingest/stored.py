"""What the database already holds, read before a poll decides (short read sessions).

Reads only, outside the write transaction: the decisions (:mod:`.entries`,
:mod:`.articles`, :mod:`.polling`) take their answers as data, and the applier
(:mod:`.apply`) checks freshness once more inside its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.catalog import Catalog, Feed
from bot.storage.articles import (
    known_canonical_urls,
    known_keys,
    newest_published,
    stored_identities,
)
from bot.storage.feeds import stored_rest_bases
from scheduler.discover import effective_base
from scheduler.identity import canonical_url
from scheduler.ingest.entries import Keyed, candidates
from scheduler.ingest.polling import FeedState

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession


async def fresh_entries(session: AsyncSession, entries: Sequence[Keyed]) -> list[Keyed]:
    """Entries whose key and canonical URL are both unknown.

    A known guid whose article has another URL *and* another title is a reused guid (a
    CMS numbering its items from 1 again): that entry is re-keyed with
    :func:`~scheduler.identity.fallback_key` (URL + title) instead of being taken for
    the old article.
    """
    stored = await stored_identities(session, [k for k, _ in entries])
    found = candidates(entries, stored)
    seen = await known_keys(session, [k for k, _ in found if k.startswith("fb:")])
    found = [(k, e) for k, e in found if k not in seen]
    seen_urls = await known_canonical_urls(session, [canonical_url(e.url) for _, e in found])
    return [(k, e) for k, e in found if canonical_url(e.url) not in seen_urls]


async def unknown_urls(session: AsyncSession, urls: Sequence[str]) -> set[str]:
    """The URLs (as given) whose canonical form is not yet an article."""
    seen = await known_canonical_urls(session, [canonical_url(u) for u in urls])
    return {u for u in urls if canonical_url(u) not in seen}


async def last_published(session: AsyncSession, state: FeedState, now: datetime) -> datetime:
    """The newest publication time this feed gave us (aware UTC), to ask for what followed."""
    newest = await newest_published(session, state.id)
    fallback = state.last_success_at or now - timedelta(days=2)
    return (newest or fallback).replace(tzinfo=UTC)


async def rest_bases(session: AsyncSession, catalog: Catalog) -> list[tuple[Feed, str]]:
    """Every catalog feed with the REST base it uses (catalog, else discovered)."""
    stored = await stored_rest_bases(session)
    pairs = [(f, effective_base(f, stored.get(f.url))) for f in catalog.feeds]
    return [(feed, base) for feed, base in pairs if base]
