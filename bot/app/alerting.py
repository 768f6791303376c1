"""Alerts for the editors' chat: outbox rows like any message, and one for every dead
letter the sender records."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.alerts import Alerts, BatchedAlerts, LogAlerts, notice, operators_language
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator
from bot.outbox.kinds import ALERT, POST
from bot.outbox.ledger import OutcomeListener
from bot.outbox.queue import Applied, Dead, Delivery, Outcome
from bot.storage.delivery_kinds import enqueue_alert

log = logging.getLogger("newsbot")

ALERT_TEXT_LIMIT = 4000  # Telegram's 4096, with room for the batch's separators


def editors_alerts(
    settings: Settings,
    bot: Bot | None,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    wake: Callable[[], None],
    translator: Translator,
) -> Alerts:
    """Alerts are outbox rows for the editors' chat, sent by the sender like any message,
    in the operators' language (:func:`bot.alerts.operators_language`). When they cannot
    be queued (the database is down: the alert may well say so), they go straight to
    Telegram instead, as a reply would."""
    chat = settings.editors_chat_id
    if bot is None or chat is None:
        return LogAlerts()
    address = str(chat)

    async def send(text: str) -> None:
        text = text[:ALERT_TEXT_LIMIT]
        try:
            async with sessions.begin() as session:
                await enqueue_alert(session, address, text, clock.now())
        except Exception as exc:
            log.warning("alert not queued (%r); sending it directly", exc)
            await bot.send_message(chat, text, parse_mode=None)
            return
        wake()

    async def language() -> str:
        async with sessions() as session:
            return await operators_language(session, settings.admin_ids, translator)

    return BatchedAlerts(send, translator, language)


def dead_letter_alerts(alerts: Alerts) -> OutcomeListener:
    """The sender's outcome hook: every dead letter but an alert's own is told to the
    editors (an alert that cannot be sent is only logged, or it would loop)."""

    async def on_outcome(delivery: Delivery, outcome: Outcome, applied: Applied) -> None:
        if applied.state == "dead" and delivery.kind != ALERT:
            reason = outcome.error if isinstance(outcome, Dead) else getattr(outcome, "error", "")
            where = {"address": delivery.address, "reason": reason}
            if delivery.kind == POST:
                await alerts.alert(notice("dead_post", id=str(delivery.article_id), **where))
            else:
                await alerts.alert(notice("dead_letter", kind=delivery.kind, **where))

    return on_outcome
