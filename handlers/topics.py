"""Forum topics by name: a connected topic keeps the name Telegram's service messages
give it (``handlers.chatnames`` reads them), so admins see "Group › Topic".
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.storage.chats import find_chat
from handlers.buttons import HANDLER
from handlers.chatnames import renamed_to
from handlers.services import Services

log = logging.getLogger(__name__)


class Topics:
    """Keeps the stored name of connected forum topics current."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def on_topic_named(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A topic was created or edited: a connected topic takes its (new) name."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.message_thread_id:
            return
        name = renamed_to(message)
        if name is None:  # only the icon changed, or the topic was closed or reopened
            return
        async with self.s.sessions.begin() as session:
            row = await find_chat(session, str(chat.id), message.message_thread_id)
            if row is None or row.topic_name == name:
                return
            row.topic_name = name
            row.updated_at = self.s.clock.now()
        log.info("topic %s of chat %s is now called %r", message.message_thread_id, chat.id, name)

    def handlers(self) -> list[HANDLER]:
        naming = filters.StatusUpdate.FORUM_TOPIC_CREATED | filters.StatusUpdate.FORUM_TOPIC_EDITED
        return [MessageHandler(filters.ChatType.GROUPS & naming, self.on_topic_named)]
