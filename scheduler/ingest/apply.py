"""The effects of a poll's decisions, written in ONE transaction.

A :class:`Plan` says what a poll decided (prepared articles, corrections, the feed's
next state); :func:`apply_plan` writes it in the caller's transaction: the articles
still unknown (checked again here: another feed or a CMS push may have stored the same
one since), their deliveries, the corrections and the feed row. If the process dies
before the commit, the next poll sees the same entries again; after it, nothing is
enqueued twice (DESIGN.md decision 1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from bot.storage.articles import (
    NewArticle,
    insert_article,
    known_canonical_urls,
    known_keys,
    set_article_columns,
)
from bot.storage.deliveries import enqueue_article
from bot.storage.fanout import shared_chats
from bot.storage.feeds import touch_feed
from scheduler.corrections import Correction, queue_corrections
from scheduler.ingest.articles import extra_columns, to_insert
from scheduler.ingest.polling import FeedUpdate

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one poll (or one pushed post) decided to write.

    ``feed_state`` decides the feed row once the transaction knows whether anything
    was stored (and at what time); ``None`` leaves the row alone (a pushed post).
    """

    feed_id: int
    feed_url: str
    articles: Sequence[NewArticle] = ()  # prepared, newest first
    alternates: Mapping[str, str] = field(default_factory=dict)  # key -> language links
    rest_keys: frozenset[str] = frozenset()  # keys whose text came from the REST API
    corrections: Sequence[Correction] = ()
    feed_state: Callable[[bool, datetime], FeedUpdate] | None = None
    unmatched_to_all: bool = True
    known_topics: tuple[str, ...] | None = None  # the catalog's topic codes


class Saved(NamedTuple):
    """What one transaction stored: articles, of them announced (their private fan-out
    follows), channel and group outbox rows, and the feed's new state (``None`` when the
    plan left it alone)."""

    stored: int
    announced: int
    deliveries: int
    feed: FeedUpdate | None = None


async def apply_plan(session: AsyncSession, plan: Plan, now: datetime) -> Saved:
    """Write the plan in ``session``'s transaction (the caller commits)."""
    taken = await known_keys(session, [a.key for a in plan.articles])
    taken_urls = await known_canonical_urls(session, [a.canonical_url for a in plan.articles])
    stored = announced = deliveries = 0
    for article in to_insert(plan.articles, taken, taken_urls):
        deliveries += await _store(session, plan, article, now)
        stored += 1
        announced += article.announced
    if plan.corrections:
        edits = await queue_corrections(session, list(plan.corrections), now)
        log.info(
            "%s: %d articles updated, %d messages to edit",
            plan.feed_url,
            len(plan.corrections),
            edits,
        )
    feed = None
    if plan.feed_state is not None:
        feed = plan.feed_state(stored > 0, now)
        await write_feed(session, plan.feed_id, feed)
    return Saved(stored, announced, deliveries, feed)


async def _store(session: AsyncSession, plan: Plan, article: NewArticle, now: datetime) -> int:
    """One article row and, when it is announced, its channel and group deliveries;
    returns their count. Its private fan-out is only marked to do (``fanout_after``):
    :mod:`scheduler.ingest.fanout` enqueues it after the commit, in chunks, so channels
    and other feeds never wait for a million private rows."""
    article_id = await insert_article(session, article, now)
    extra: dict[str, object] = {**extra_columns(article.key, plan.alternates, set(plan.rest_keys))}
    if article.announced:
        extra["fanout_after"] = 0
    if extra:
        await set_article_columns(session, article_id, extra)
    if not article.announced:
        return 0
    return await enqueue_article(
        session,
        article_id,
        article.language,
        article.regions,
        now,
        unmatched_to_all=plan.unmatched_to_all,
        breaking=article.breaking,
        among=shared_chats(),
        known_topics=plan.known_topics,
    )


async def write_feed(session: AsyncSession, feed_id: int, change: FeedUpdate) -> None:
    """The feed row's new polling state."""
    await touch_feed(session, feed_id, **change.values)
