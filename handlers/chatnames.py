"""What a connected chat is called: its title, and a forum topic's name.

Telegram tells a bot a topic's name in three places: the ``forum_topic_created`` service
message that opens the topic, the ``forum_topic_edited`` one when it is renamed (its name
is absent when only the icon changed), and, on every other message in the topic that is
not a reply, ``reply_to_message`` (which is then the creation message, with the name the
topic was opened with, never edited). A connected topic stores the name so that admins
see "Group › Topic" rather than a number.
"""

from __future__ import annotations

from telegram import Message

from bot.storage.models import ChatRow

TOPIC_NAME_LIMIT = 128  # Telegram's own limit on a topic's name


def chat_title(row: ChatRow) -> str:
    """The chat's title; a forum topic's is "Group › Topic" (or "Group #7" until named)."""
    base = row.title or row.address
    if not row.thread_id:
        return base
    return f"{base} › {row.topic_name}" if row.topic_name else f"{base} #{row.thread_id}"


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
