"""``/id``: the numeric id of a chat, and how to write it in the catalog or in ``.env``.

A private channel has no @username, and the editors' chat is usually a private group:
their numeric ids are what the catalog (``[[channels]] chat``) and
``NEWSBOT_EDITORS_CHAT_ID`` need, and Telegram's apps do not show them. So:

- ``/id`` in a group, or posted in a channel, answers there with the chat's id (and the
  forum topic's ``thread``), for the outlet's operators and the chat's administrators
  (anyone who can post in a channel is one); others get no answer, so a group is not
  filled with replies;
- a message forwarded from a channel or group to the bot in private answers with that
  chat's id, for operators and that chat's administrators (anyone else's forward goes on
  to the usual handlers);
- ``/id`` in private answers with the user's own id, for ``NEWSBOT_ADMIN_IDS``.

Answers are plain text in English, like the other operator tools.
"""

from __future__ import annotations

from telegram import Chat, Message, MessageOriginChannel, MessageOriginChat, Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.admins import is_chat_admin
from handlers.services import Services

Handler = BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]


def chat_id_text(chat: Chat, thread: int | None = None) -> str:
    """What to write for ``chat`` (pure, so it is tested as data)."""
    title = chat.title or chat.username or str(chat.id)
    lines = [f'This {chat.type}: "{title}", id {chat.id}', "", "In catalog.toml:"]
    lines += ["[[channels]]", f"chat = {chat.id}"]
    if thread is not None:
        lines.append(f"thread = {thread}")
    if chat.username:
        lines.append(f'(or chat = "@{chat.username}": it is public)')
    lines += ["", f"For alerts, in .env: NEWSBOT_EDITORS_CHAT_ID={chat.id}"]
    return "\n".join(lines)


def user_id_text(user_id: int) -> str:
    return (
        f"Your Telegram user id: {user_id}\n\nFor an operator, in .env: NEWSBOT_ADMIN_IDS={user_id}"
    )


class ChatIds:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def id_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        if chat.type == ChatType.PRIVATE:
            await message.reply_text(user_id_text(chat.id), parse_mode=None)
            return
        if not await self._may_ask_in(update, message, chat, context):
            return
        thread = message.message_thread_id if message.is_topic_message else None
        await message.reply_text(chat_id_text(chat, thread), parse_mode=None)

    async def forwarded(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A forward from a channel or group: its id for those allowed, else carry on."""
        message = update.effective_message
        origin = message.forward_origin if message else None
        if message is None or not isinstance(origin, MessageOriginChannel | MessageOriginChat):
            return
        source = origin.chat if isinstance(origin, MessageOriginChannel) else origin.sender_chat
        user = update.effective_user
        allowed = self.s.is_operator(update) or (
            user is not None and await is_chat_admin(context.bot, source.id, user.id)
        )
        if not allowed:
            return  # not ours to answer: the usual handlers see it
        await message.reply_text(chat_id_text(source), parse_mode=None)
        raise ApplicationHandlerStop

    async def _may_ask_in(
        self, update: Update, message: Message, chat: Chat, context: ContextTypes.DEFAULT_TYPE
    ) -> bool:
        if chat.type == ChatType.CHANNEL:
            return True  # only a channel's administrators can post in it
        if message.sender_chat is not None:  # an anonymous administrator writes as the group
            return message.sender_chat.id == chat.id
        user = update.effective_user
        if user is None:
            return False
        return self.s.is_operator(update) or await is_chat_admin(context.bot, chat.id, user.id)

    def handlers(self) -> list[Handler]:
        where = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        return [CommandHandler("id", self.id_command, filters=where)]

    def early_handlers(self) -> list[Handler]:
        """Registered in a group before the others: a forward this does not answer goes
        on to them unchanged."""
        forwarded = filters.ChatType.PRIVATE & filters.FORWARDED & filters.UpdateType.MESSAGE
        return [MessageHandler(forwarded, self.forwarded)]
