"""Corrections: a sent article whose title or summary changed is edited in every chat.

Editors fix headlines after publishing. A poll that sees a known article with another
title or summary (computed the same way as when it was stored) within the feed's
``corrections_hours`` updates the article row and queues one ``edit`` outbox row per
sent message, in the poll's own transaction (:func:`queue_corrections`). The sender
then edits those messages (``editMessageText``, or the caption of a photo), rendered
from the article as it is then by the same :class:`~bot.outbox.compose.PostBuilder` as the post,
paced and answered like any post (``bot.outbox.kinds``): "message is not modified" or a
message gone finishes the edit, a 429 waits, a 403 pauses the channel, a migrated group
is followed. An article the site removed can have its messages deleted the same way
(``delete`` rows, behind the catalog's ``[outlet] delete_removed``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.kinds import DELETE, EDIT, POST
from bot.storage.delivery_kinds import enqueue_on_posts
from bot.storage.models import ArticleRow, FeedRow, OutboxRow
from bot.text.search import searchable

log = logging.getLogger(__name__)

#: Outbox states of a row being sent now: its edit waits for the message id.
SENDING_STATES = ("claimed", "inflight")
#: How often each WordPress feed's REST API is asked which recent posts still exist.
REMOVAL_CHECK_EVERY = 900.0


@dataclass(frozen=True, slots=True)
class Stored:
    """What a correction compares: the article as stored."""

    article_id: int
    title: str
    summary: str
    alternates: str = ""
    text_source: str = "feed"


@dataclass(frozen=True, slots=True)
class Correction:
    """New values for an article; ``edit`` when the sent messages must change too (a
    translation published later only updates the row, for the posts still to send)."""

    article_id: int
    title: str
    summary: str
    alternates: str = ""
    edit: bool = True


async def stored_articles(
    session: AsyncSession, keys: Sequence[str], feed_id: int, since: datetime
) -> dict[str, Stored]:
    """Announced articles of this feed first stored after ``since``, by key.

    Only the feed that stored an article corrects it: two feeds describing one article
    differently would otherwise edit its messages back and forth.
    """
    if not keys:
        return {}
    a = ArticleRow
    rows = await session.execute(
        select(a.key, a.id, a.title, a.summary, a.alternates, a.text_source).where(
            a.key.in_(list(keys)),
            a.feed_id == feed_id,
            a.announced.is_(True),
            a.created_at >= since,
        )
    )
    return {key: Stored(aid, t, s, alt or "", src) for key, aid, t, s, alt, src in rows}


async def queue_corrections(
    session: AsyncSession, corrections: Sequence[Correction], now: datetime
) -> int:
    """Update the articles and queue an edit of each message already sent; returns how many.

    Rows not sent yet need nothing: they are rendered from the article row when sent.
    """
    queued = 0
    for fix in corrections:
        await session.execute(
            update(ArticleRow)
            .where(ArticleRow.id == fix.article_id)
            .values(
                title=fix.title,
                summary=fix.summary,
                search_text=searchable(fix.title, fix.summary),
                alternates=fix.alternates,
                text_source="feed",
                updated_at=now,
            )
        )
        if fix.edit:
            queued += await queue_action(session, fix.article_id, "edit", now)
    return queued


async def queue_action(session: AsyncSession, article_id: int, action: str, now: datetime) -> int:
    """One ``edit`` (or ``delete``) outbox row per sent message of the article (one still
    waiting is reused).

    Rows being sent right now (claimed or in flight) were rendered from the old text:
    they are queued too, and their edit waits for the message id.
    """
    sent = list(
        await session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.article_id == article_id,
                OutboxRow.kind == POST,
                or_(
                    OutboxRow.state.in_(SENDING_STATES),
                    and_(OutboxRow.state == "sent", OutboxRow.message_id.is_not(None)),
                ),
            )
        )
    )
    return await enqueue_on_posts(session, DELETE if action == "delete" else EDIT, sent, now)


@dataclass(frozen=True, slots=True)
class Removed:
    article_id: int
    url: str
    title: str


async def recent_wordpress_articles(
    session: AsyncSession, feed_url: str, since: datetime
) -> list[tuple[str, Removed]]:
    """Announced articles of this feed keyed by WordPress post id, published and first
    stored after ``since``: the ones the REST API must still list if they exist."""
    a = ArticleRow
    rows = await session.execute(
        select(a.key, a.id, a.url, a.title)
        .join(FeedRow, FeedRow.id == a.feed_id)
        .where(
            FeedRow.url == feed_url,
            a.key.like("wp:%"),
            a.announced.is_(True),
            a.created_at >= since,
            a.published_at >= since,
        )
    )
    return [(key, Removed(aid, url, title)) for key, aid, url, title in rows]


def removed_from(
    stored: Sequence[tuple[str, Removed]], listed: set[str], error: str | None
) -> list[Removed]:
    """Stored articles missing from a *complete, non-empty* REST listing.

    An incomplete walk or an empty answer proves nothing (an API failing quietly must
    not delete a day of posts), so either yields no removal.
    """
    if error or not listed:
        return []
    return [article for key, article in stored if key not in listed]


def dump_alternates(pairs: Sequence[tuple[str, str]]) -> str:
    """The ``articles.alternates`` column: JSON ``[[language, url], ...]``, "" when none."""
    return json.dumps([list(pair) for pair in pairs]) if pairs else ""


def correction_jobs(
    removals: Callable[[], Awaitable[object]] | None = None,
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entry for ``build_scheduler(extra=...)``: looking for removed articles
    (``removals``, the ingestor's ``check_removed``). The edits and deletions it and the
    polls queue are sent by the sender."""
    if removals is None:
        return []
    return [("removals", REMOVAL_CHECK_EVERY, removals)]
