"""Commands for the outlet's operators (``NEWSBOT_ADMIN_IDS``): ``/queue``.

``/queue`` answers "how much is still to send, and when will it be out?": the outbox
backlog per state and audience, what is due now and what waits for later, the unknown
and dead-letter totals, and the time to drain at the configured rate. Anyone else who
tries it gets a polite refusal, and nothing about the queue.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.outbox import BACKLOG_STATES, Backlog, backlog
from bot.pacing import drain_seconds
from handlers.services import Services

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


def format_queue(report: Backlog, rate: float, now: datetime) -> str:
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
        text = format_queue(report, self.s.settings.effective_rate, now)
        await message.reply_text(text, parse_mode=None)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("queue", self.queue)]
