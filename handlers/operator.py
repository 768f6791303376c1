"""Commands for the outlet's operators (``NEWSBOT_ADMIN_IDS``): ``/queue``, ``/resend``.

``/queue`` answers "how much is still to send, and when will it be out?": the outbox
backlog per state and audience, what is due now and what waits for later, the unknown
and dead-letter totals, the time to drain at the configured rate, and the articles whose
deliveries' fate is unknown. ``/resend <article>`` queues one of those articles again for
its channels (never for groups or private chats: see ``bot.unknown``). Anyone else who
tries them gets a polite refusal, and nothing about the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.outbox import BACKLOG_STATES, Backlog, backlog
from bot.pacing import drain_seconds
from bot.storage.models import ArticleRow, AuditRow
from bot.unknown import UnknownArticle, resend_to_channels, unknown_by_article
from handlers.services import Services

log = logging.getLogger(__name__)
TITLE_CHARS = 60
RESEND_USAGE = "Usage: /resend <article id> (the ids are listed by /queue)"

AUDIENCES = {0: "channels", 1: "groups", 2: "private"}


def human_duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 5 min``: precise enough for an operator."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def format_unknown(articles: Sequence[UnknownArticle]) -> list[str]:
    """One line per article with deliveries of unknown fate (pure, like ``format_queue``)."""
    if not articles:
        return []
    lines = ["Unknown deliveries by article (newest first; /resend <id> resends to channels):"]
    for article in articles:
        title = article.title if len(article.title) <= TITLE_CHARS else article.title[:59] + "…"
        lines.append(
            f"  #{article.article_id} {title}: channels {article.channels}"
            f" · groups {article.groups} · private {article.private}"
        )
    return lines


def format_queue(
    report: Backlog, rate: float, now: datetime, unknown: Sequence[UnknownArticle] = ()
) -> str:
    """The ``/queue`` answer as plain text (pure, so it is tested without Telegram)."""
    lines = [f"Outbox backlog: {report.total} to send"]
    for state in BACKLOG_STATES:
        row = {p: report.by_state.get((state, p), 0) for p in AUDIENCES}
        if any(row.values()):
            parts = " · ".join(f"{AUDIENCES[p]} {n}" for p, n in row.items())
            lines.append(f"  {state}: {parts}")
    later = report.total - report.due_now
    lines.append(f"Due now: {report.due_now}; scheduled later: {later}")
    if report.next_later is not None:
        wait = max(0.0, (report.next_later - now).total_seconds())
        lines.append(f"Next scheduled send in {human_duration(wait)}")
    eta = drain_seconds(
        report.due_now,
        rate,
        busiest_private=report.busiest_private,
        busiest_group=report.busiest_group,
    )
    lines.append(f"At {rate:g} messages/s: about {human_duration(eta)} to drain what is due")
    lines.append(f"Unknown (never re-sent): {report.unknown}; dead letters: {report.dead}")
    lines.extend(format_unknown(unknown))
    return "\n".join(lines)


class Operator:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def queue(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        if not await self.s.refuse_unless_operator(update):
            return
        now = self.s.clock.now()
        async with self.s.sessions() as session:
            report = await backlog(session, now)
            unknown = await unknown_by_article(session)
        text = format_queue(report, self.s.settings.effective_rate, now, unknown)
        await message.reply_text(text, parse_mode=None)

    async def resend(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/resend <article>``: unknown deliveries of that article to channels go again."""
        message = update.effective_message
        if message is None or not await self.s.refuse_unless_operator(update):
            return
        args = context.args or []
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            await message.reply_text(RESEND_USAGE, parse_mode=None)
            return
        article_id = int(args[0].lstrip("#"))
        user = update.effective_user
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            if await session.get(ArticleRow, article_id) is None:
                await message.reply_text(f"There is no article #{article_id}.", parse_mode=None)
                return
            channels, others = await resend_to_channels(session, article_id, now)
            await self._audit(session, article_id, channels, user.id if user else None, now)
        log.warning(
            "operator %s resent article %d to %d channels",
            user and user.id,
            article_id,
            len(channels),
        )
        answer = resend_answer(article_id, [address for _, address in channels], others)
        await message.reply_text(answer, parse_mode=None)

    @staticmethod
    async def _audit(
        session: AsyncSession,
        article_id: int,
        channels: Sequence[tuple[int, str]],
        user_id: int | None,
        now: datetime,
    ) -> None:
        """Each resend is in the audit log, against the channel it went to."""
        for chat_id, address in channels:
            session.add(
                AuditRow(
                    at=now,
                    user_id=user_id,
                    chat_id=chat_id,
                    address=address,
                    action="resend",
                    detail=f"article {article_id}: unknown delivery queued again",
                )
            )

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("queue", self.queue), CommandHandler("resend", self.resend)]


def resend_answer(article_id: int, channels: Sequence[str], others: int) -> str:
    """What ``/resend`` did, and what it left alone."""
    if channels:
        text = f"Article #{article_id} queued again for {len(channels)} channel(s): " + ", ".join(
            channels
        )
    else:
        text = f"Article #{article_id} has no unknown delivery to a channel."
    if others:
        text += (
            f"\n{others} unknown deliveries to groups and private chats stay as they are"
            " (never resent: nobody can check there first)."
        )
    return text
