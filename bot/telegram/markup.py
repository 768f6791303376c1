"""A rendered post's buttons as python-telegram-bot's inline keyboard.

One place for the conversion: the sender posts it and the corrections job edits with it,
and an edit without the same buttons would remove them.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import RenderedMessage


def keyboard(message: RenderedMessage) -> InlineKeyboardMarkup | None:
    """URL buttons and callback buttons, row by row; ``None`` for a post without any."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.callback_data)
                for b in row
            ]
            for row in message.buttons
        ]
    )
