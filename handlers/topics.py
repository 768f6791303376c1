"""Forum topics by name: kept from the service messages Telegram sends about them.

Telegram tells a bot a topic's name in three places: the ``forum_topic_created`` service
message that opens the topic, the ``forum_topic_edited`` one when it is renamed (its name
is absent when only the icon changed), and, on every other message in the topic that is
not a reply, ``reply_to_message`` (which is then the creation message, with the name the
topic was opened with, never edited). A connected topic stores the name so that admins
see "Group › Topic" rather than a number.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.storage.chats import find_chat
from handlers.services import Services
from handlers.settings import HANDLER

log = logging.getLogger(__name__)
TOPIC_NAME_LIMIT = 128  # Telegram's own limit on a topic's name


def topic_name_of(message: Message) -> str | None:
    """The name of the topic ``message`` was sent in, when the message carries it."""
    if not message.is_topic_message:
        return None
    created = message.forum_topic_created
    if created is None and message.reply_to_message is not None:
        created = message.reply_to_message.forum_topic_created
    return created.name[:TOPIC_NAME_LIMIT] if created is not None and created.name else None


def renamed_to(message: Message) -> str | None:
    """The new name a service message gives its topic (None: not a naming message)."""
    edited = message.forum_topic_edited
    if edited is not None:
        return edited.name[:TOPIC_NAME_LIMIT] if edited.name else None
    created = message.forum_topic_created
    return created.name[:TOPIC_NAME_LIMIT] if created is not None and created.name else None


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
