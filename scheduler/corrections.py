"""Corrections: a sent article whose title or summary changed is edited in every chat.

Editors fix headlines after publishing. A poll that sees a known article with another
title or summary (computed the same way as when it was stored) within the feed's
``corrections_hours`` updates the article row and queues one ``edits`` row per sent
message, in the poll's own transaction (:func:`queue_corrections`). The
:class:`CorrectionJob` then edits those messages with ``editMessageText``, rendered by
the same :class:`~bot.posts.PostBuilder` as the post, through the bot whose requests
pass the shared rate limiter (each chat's own limit and the global budget, like any
send). An article the site removed can have its messages deleted the same way
(``action = "delete"``, behind the catalog's ``[outlet] delete_removed``).

Outcomes: done or "message is not modified" -> the edit is finished; 403 or a message
that no longer exists -> skipped (logged); a long 429 -> tried again after the wait;
a network failure -> tried again later, at most :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.clock import Clock
from bot.outbox import Delivery
from bot.posts import PostBuilder
from bot.render import CAPTION_LIMIT
from bot.storage.models import ArticleRow, ChatRow, EditRow, FeedRow, OutboxRow
from bot.telegram.markup import keyboard
from bot.text.search import searchable

log = logging.getLogger(__name__)

#: How often the job looks for pending edits, and how many it handles per run.
EVERY_SECONDS = 10.0
BATCH = 50
#: A failing edit (network, 5xx) is tried this many times, then dropped.
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(seconds=60)
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
    """One ``edits`` row per sent message of the article (an existing one is reused).

    Rows being sent right now (claimed or in flight) were rendered from the old text:
    they are queued too, and the job waits for their message id.
    """
    sent = list(
        await session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.article_id == article_id,
                or_(
                    OutboxRow.state.in_(SENDING_STATES),
                    and_(OutboxRow.state == "sent", OutboxRow.message_id.is_not(None)),
                ),
            )
        )
    )
    if not sent:
        return 0
    pending = set(
        await session.scalars(select(EditRow.outbox_id).where(EditRow.outbox_id.in_(sent)))
    )
    if pending:
        await session.execute(
            update(EditRow)
            .where(EditRow.outbox_id.in_(pending))
            .values(action=action, due_at=now, attempts=0)
        )
    session.add_all(
        EditRow(outbox_id=oid, action=action, attempts=0, due_at=now, created_at=now)
        for oid in sent
        if oid not in pending
    )
    return len(sent)


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


# ---- the job ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pending:
    delivery: Delivery
    message_id: int | None  # None: still being sent
    action: str
    attempts: int
    state: str


class CorrectionJob:
    """Applies pending edits and deletions through the rate-limited bot."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        posts: PostBuilder,
        bot: Bot,
        clock: Clock,
        *,
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._posts = posts
        self._bot = bot
        self._clock = clock
        self._batch = batch

    async def run(self) -> int:
        """Handle the due edits; returns how many messages were edited or deleted."""
        done = 0
        for item in await self._due(self._clock.now()):
            if item.message_id is None:
                await self._not_sent_yet(item)
                continue
            try:
                outcome = await self._apply(item, item.message_id)
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                log.warning("edit hit a 429; pending edits wait %.0f s", seconds)
                await self._postpone(item, timedelta(seconds=seconds), count=False)
                break  # the whole budget is paused: the rest waits too
            except Exception as exc:  # one message's failure never stops the others
                log.warning(
                    "%s of message in %s failed: %r", item.action, item.delivery.address, exc
                )
                await self._postpone(item, RETRY_DELAY, count=True)
                continue
            if outcome:
                done += 1
            await self._finish(item)
        return done

    async def _due(self, now: datetime) -> list[_Pending]:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(EditRow, OutboxRow, ChatRow, ArticleRow)
                    .join(OutboxRow, OutboxRow.id == EditRow.outbox_id)
                    .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
                    .join(ArticleRow, ArticleRow.id == OutboxRow.article_id)
                    .where(EditRow.due_at <= now)
                    .order_by(EditRow.due_at, EditRow.outbox_id)
                    .limit(self._batch)
                )
            ).all()
        return [_pending(edit, row, chat, article) for edit, row, chat, article in rows]

    async def _not_sent_yet(self, item: _Pending) -> None:
        """A row still being sent is asked about again later; one that ended unsent
        (dead, dropped, unknown) has no message to correct."""
        if item.state in SENDING_STATES:
            await self._postpone(item, RETRY_DELAY, count=True)
        else:
            await self._finish(item)

    async def _apply(self, item: _Pending, message_id: int) -> bool:
        """True when Telegram changed the message; False when there was nothing to do."""
        d = item.delivery
        chat = int(d.address) if d.address.lstrip("-").isdigit() else d.address
        try:
            if item.action == "delete":
                await self._bot.delete_message(chat, message_id)
                return True
            if d.sent_as_photo:
                await self._edit_caption(d, chat, message_id)
                return True
            message = self._posts.build(d)
            await self._bot.edit_message_text(
                message.text,
                chat_id=chat,
                message_id=message_id,
                parse_mode=None if d.plain_text else ParseMode.HTML,
                reply_markup=keyboard(message),
                link_preview_options=LinkPreviewOptions(is_disabled=message.disable_preview),
            )
            return True
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return False
            log.warning("%s in %s refused: %s; skipped", item.action, d.address, exc.message)
            return False
        except Forbidden as exc:
            log.info("%s in %s skipped: %s", item.action, d.address, exc.message)
            return False

    async def _edit_caption(self, d: Delivery, chat: int | str, message_id: int) -> None:
        """A post sent as a photo: its caption changes, shortened to the caption limit."""
        message = self._posts.build(d, limit=CAPTION_LIMIT)
        await self._bot.edit_message_caption(
            chat_id=chat,
            message_id=message_id,
            caption=message.text,
            parse_mode=None if d.plain_text else ParseMode.HTML,
            reply_markup=keyboard(message),
        )

    async def _finish(self, item: _Pending) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(EditRow).where(EditRow.outbox_id == item.delivery.id))

    async def _postpone(self, item: _Pending, wait: timedelta, *, count: bool) -> None:
        attempts = item.attempts + (1 if count else 0)
        async with self._sessions.begin() as session:
            if attempts >= MAX_ATTEMPTS:
                log.warning("giving up the %s of message in %s", item.action, item.delivery.address)
                await session.execute(delete(EditRow).where(EditRow.outbox_id == item.delivery.id))
                return
            await session.execute(
                update(EditRow)
                .where(EditRow.outbox_id == item.delivery.id)
                .values(attempts=attempts, due_at=self._clock.now() + wait)
            )


def _pending(edit: EditRow, row: OutboxRow, chat: ChatRow, article: ArticleRow) -> _Pending:
    delivery = Delivery(
        id=row.id,
        attempts=row.attempts,
        plain_text=bool(row.plain_text),
        chat_pk=chat.id,
        address=chat.address,
        thread_id=chat.thread_id,
        chat_kind=chat.kind,
        chat_language=chat.language,
        article_id=article.id,
        title=article.title,
        url=article.url,
        summary=article.summary,
        regions=article.region_codes,
        hide_appeals=bool(chat.hide_appeals),
        alternates=article.alternates or "",
        image_url=article.image_url or "",
        breaking=bool(article.breaking),
        sent_as_photo=bool(row.photo),
    )
    return _Pending(delivery, row.message_id, edit.action, edit.attempts, row.state)


def correction_jobs(
    sessions: async_sessionmaker[AsyncSession],
    posts: PostBuilder,
    clock: Clock,
    bot: Bot | None,
    removals: Callable[[], Awaitable[object]] | None = None,
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entries for ``build_scheduler(extra=...)``: applying edits, and
    (``removals``, the ingestor's ``check_removed``) looking for removed articles; none
    without a bot (dry run)."""
    if bot is None:
        return []
    job = CorrectionJob(sessions, posts, bot, clock)
    jobs: list[tuple[str, float, Callable[[], Awaitable[object]]]] = [
        ("corrections", EVERY_SECONDS, job.run)
    ]
    if removals is not None:
        jobs.append(("removals", REMOVAL_CHECK_EVERY, removals))
    return jobs
