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
from typing import TYPE_CHECKING

from bot.outbox.kinds import DELETE, EDIT
from bot.storage.articles import Removed, Stored, correct_article
from bot.storage.delivery_kinds import enqueue_on_posts, posts_to_change

if TYPE_CHECKING:  # session types for annotations only: the SQL is bot.storage's
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "Correction",
    "Removed",
    "Stored",
    "correction_jobs",
    "dump_alternates",
    "queue_action",
    "queue_corrections",
    "removed_from",
]

log = logging.getLogger(__name__)

#: How often each WordPress feed's REST API is asked which recent posts still exist.
REMOVAL_CHECK_EVERY = 900.0


@dataclass(frozen=True, slots=True)
class Correction:
    """New values for an article; ``edit`` when the sent messages must change too (a
    translation published later only updates the row, for the posts still to send)."""

    article_id: int
    title: str
    summary: str
    alternates: str = ""
    edit: bool = True


async def queue_corrections(
    session: AsyncSession, corrections: Sequence[Correction], now: datetime
) -> int:
    """Update the articles and queue an edit of each message already sent; returns how many.

    Rows not sent yet need nothing: they are rendered from the article row when sent.
    """
    queued = 0
    for fix in corrections:
        await correct_article(
            session,
            fix.article_id,
            title=fix.title,
            summary=fix.summary,
            alternates=fix.alternates,
            now=now,
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
    sent = await posts_to_change(session, article_id)
    return await enqueue_on_posts(session, DELETE if action == "delete" else EDIT, sent, now)


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
