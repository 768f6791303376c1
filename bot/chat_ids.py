"""Telegram chat ids as the bot keeps them: one reading of a chat's address for every layer.

A destination's address is stored as text: a numeric id (``-100…`` for channels and
supergroups, negative for basic groups, positive for private chats) or a public
``@username``. The Bot API takes either, but a numeric id must go as a number, and only
a positive one is a private chat. Pure: no I/O, so storage, the catalog and the Telegram
adapter can all use it.
"""

from __future__ import annotations

import re

_NUMERIC = re.compile(r"-?\d+")


def numeric_chat_id(text: str) -> int | None:
    """The chat id written in ``text``, or None when it is not a (possibly negative) number."""
    return int(text) if _NUMERIC.fullmatch(text) else None


def chat_id_of(address: str) -> int | str:
    """What the Bot API's ``chat_id`` takes: the number, or the ``@username`` as it is."""
    number = numeric_chat_id(address)
    return address if number is None else number


def is_private_chat(chat: int | str) -> bool:
    """Only private chats have positive ids; groups and channels are negative or @names."""
    number = chat if isinstance(chat, int) else numeric_chat_id(chat)
    return number is not None and number > 0
