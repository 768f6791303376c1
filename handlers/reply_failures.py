"""What a refused reply means, read as a post's answer would be.

Replies to commands leave on their own fast path (the bot's adapter, its limiter and the
shared budget: a 429 there pauses the broadcasts too and is tried once more,
``bot.telegram.limiter``). A reply Telegram still refused ends in the application's error
handler; there its error is read by the sender's one interpretation
(``bot.telegram.publisher.interpret``) and acted on as after a post: a chat gone (a
reader who blocked the bot, a channel or group that removed it) is deactivated or paused
with its open rows dropped (``close_chat``), a group that became a supergroup is followed
(``move_chat_address``). Anything else is logged, and the bot carries on.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.outbox.queue import ChatGone, Migrated
from bot.storage.chats import find_chat, move_chat_address
from bot.storage.delivery_outcomes import close_chat
from bot.telegram.publisher import interpret
from handlers.services import Services

log = logging.getLogger(__name__)


class ReplyFailures:
    """The application's error handler."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log and carry on: one bad update never stops the bot; a refused reply first
        changes the chat as a post's refusal would."""
        log.error("error while handling an update: %r", context.error, exc_info=context.error)
        error = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if not isinstance(error, TelegramError) or chat is None:
            return
        message = update.effective_message if isinstance(update, Update) else None
        thread = message.message_thread_id if message and message.is_topic_message else 0
        now = self.s.clock.now()
        match interpret(error):
            case ChatGone(error=err):
                async with self.s.sessions.begin() as session:
                    row = await find_chat(session, str(chat.id), thread or 0)
                    if row is not None:
                        await close_chat(session, row.id, now, err)
            case Migrated(new_address=new):
                async with self.s.sessions.begin() as session:
                    await move_chat_address(session, str(chat.id), new, "supergroup", now)
