"""A rendered post's buttons as python-telegram-bot's inline keyboard.

One place for the conversion: the sender posts it and the corrections job edits with it,
and an edit without the same buttons would remove them.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.domain import Button, RenderedMessage


def keyboard(message: RenderedMessage) -> InlineKeyboardMarkup | None:
    """URL, callback and share buttons, row by row; ``None`` for a post without any."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[button(b) for b in row] for row in message.buttons])


def button(b: Button) -> InlineKeyboardButton:
    """One button; a share button opens the chat picker for users, groups and channels."""
    if b.url:
        return InlineKeyboardButton(b.text, url=b.url)
    if b.share_query is not None:
        return InlineKeyboardButton(
            b.text,
            switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat(
                query=b.share_query,
                allow_user_chats=True,
                allow_group_chats=True,
                allow_channel_chats=True,
            ),
        )
    return InlineKeyboardButton(b.text, callback_data=b.callback_data)
