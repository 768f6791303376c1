"""Commands for the outlet's operators (``NEWSBOT_ADMIN_IDS``): ``/queue``, ``/resend``.

``/queue`` answers "how much is still to send, and when will it be out?": the outbox
backlog per state and audience, what is due now and what waits for later, the unknown
and dead-letter totals, the time to drain at the configured rate, and the articles whose
deliveries' fate is unknown. ``/resend <article>`` queues one of those articles again for
its channels (never for groups or private chats: see ``bot.storage.unknown_deliveries``).
Anyone else who tries them gets a polite refusal, and nothing about the queue. Both answer in the
operator's language.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from babel.dates import format_timedelta
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.i18n import Translator
from bot.outbox.pacing import drain_seconds
from bot.outbox.queue import BACKLOG_STATES, Backlog
from bot.storage.articles import find_article
from bot.storage.audit import audit_at
from bot.storage.deliveries import backlog
from bot.storage.unknown_deliveries import UnknownArticle, resend_to_channels, unknown_by_article
from handlers.services import Services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
TITLE_CHARS = 60
AUDIENCES = {0: "queue.channels", 1: "queue.groups", 2: "queue.private"}


def human_duration(seconds: float, lang: str = "en") -> str:
    """``42s``, ``3m 20s``, ``2h 5m`` (as ``lang`` abbreviates units): precise enough for
    an operator."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "hours"), (minutes, "minutes"), (secs, "seconds")]
    shown = [(n, unit) for n, unit in parts if n] or [(0, "seconds")]
    if hours:  # seconds say nothing next to hours
        shown = [(n, unit) for n, unit in shown if unit != "seconds"]
    return " ".join(
        format_timedelta(timedelta(**{unit: n}), format="narrow", threshold=1, locale=lang)
        for n, unit in shown
    )


def format_unknown(articles: Sequence[UnknownArticle], tr: Translator, lang: str) -> list[str]:
    """One line per article with deliveries of unknown fate (pure, like ``format_queue``)."""
    if not articles:
        return []
    lines = [tr.plain(lang, "queue.unknown_heading")]
    for article in articles:
        title = article.title if len(article.title) <= TITLE_CHARS else article.title[:59] + "…"
        line = tr.plain(
            lang,
            "queue.unknown_line",
            id=str(article.article_id),
            title=title,
            channels=article.channels,
            groups=article.groups,
            private=article.private,
        )
        lines.append(f"  {line}")
    return lines


def format_queue(
    report: Backlog,
    rate: float,
    now: datetime,
    tr: Translator,
    lang: str,
    unknown: Sequence[UnknownArticle] = (),
) -> str:
    """The ``/queue`` answer as plain text in ``lang`` (pure, tested without Telegram)."""
    lines = [tr.plain(lang, "queue.backlog", total=report.total)]
    for state in BACKLOG_STATES:
        row = {p: report.by_state.get((state, p), 0) for p in AUDIENCES}
        if any(row.values()):
            parts = " · ".join(f"{tr.plain(lang, AUDIENCES[p])} {n}" for p, n in row.items())
            lines.append(f"  {state}: {parts}")
    later = report.total - report.due_now
    lines.append(tr.plain(lang, "queue.due", due=report.due_now, later=later))
    if report.next_later is not None:
        wait = max(0.0, (report.next_later - now).total_seconds())
        lines.append(tr.plain(lang, "queue.next", wait=human_duration(wait, lang)))
    eta = drain_seconds(
        report.due_now,
        rate,
        busiest_private=report.busiest_private,
        busiest_group=report.busiest_group,
    )
    lines.append(tr.plain(lang, "queue.drain", rate=f"{rate:g}", eta=human_duration(eta, lang)))
    lines.append(tr.plain(lang, "queue.unknown", unknown=report.unknown, dead=report.dead))
    lines.extend(format_unknown(unknown, tr, lang))
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
        lang = await self.s.language_for(update)
        rate = self.s.settings.effective_rate
        text = format_queue(report, rate, now, self.s.translator, lang, unknown)
        await message.reply_text(text, parse_mode=None)

    async def resend(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/resend <article>``: unknown deliveries of that article to channels go again."""
        message = update.effective_message
        if message is None or not await self.s.refuse_unless_operator(update):
            return
        tr, lang = self.s.translator, await self.s.language_for(update)
        args = context.args or []
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            await message.reply_text(tr.plain(lang, "resend.usage"), parse_mode=None)
            return
        article_id = int(args[0].lstrip("#"))
        user = update.effective_user
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            if await find_article(session, article_id) is None:
                missing = tr.plain(lang, "resend.no_article", id=str(article_id))
                await message.reply_text(missing, parse_mode=None)
                return
            channels, others = await resend_to_channels(session, article_id, now)
            await self._audit(session, article_id, channels, user.id if user else None, now)
        log.warning(
            "operator %s resent article %d to %d channels",
            user and user.id,
            article_id,
            len(channels),
        )
        addresses = [address for _, address in channels]
        answer = resend_answer(article_id, addresses, others, tr, lang)
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
            detail = f"article {article_id}: unknown delivery queued again"
            audit_at(session, now, user_id, chat_id, address, "resend", detail)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("queue", self.queue), CommandHandler("resend", self.resend)]


def resend_answer(
    article_id: int, channels: Sequence[str], others: int, tr: Translator, lang: str
) -> str:
    """What ``/resend`` did, and what it left alone."""
    if channels:
        text = tr.plain(
            lang,
            "resend.queued",
            id=str(article_id),
            count=len(channels),
            channels=", ".join(channels),
        )
    else:
        text = tr.plain(lang, "resend.none", id=str(article_id))
    if others:
        text += "\n" + tr.plain(lang, "resend.others", count=others)
    return text
