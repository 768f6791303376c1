"""Who may do what in a channel or group, asked of Telegram at the moment it matters.

Rights are never remembered: a former admin's old buttons change nothing, nor do those
of an admin whose rights were cut. Shared by every capability that acts for a chat's
admins (connecting and configuring it, ``/id``) or watches the bot's own membership.
"""

from __future__ import annotations

import logging

from telegram import Bot, ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def member(bot: Bot, chat: int | str, user_id: int) -> ChatMember | None:
    """``getChatMember``, or None when Telegram will not say (the bot is not there)."""
    try:
        return await bot.get_chat_member(chat, user_id)
    except TelegramError as exc:
        log.info("getChatMember(%s, %s) failed: %s", chat, user_id, exc)
        return None


async def is_chat_admin(bot: Bot, chat: int | str, user_id: int) -> bool:
    """Whether ``user_id`` is the creator or an administrator of ``chat`` right now.

    Enough to be shown facts about the chat (its id); changing what the bot does there
    takes the rights that ``management_refusal`` asks for.
    """
    found = await member(bot, chat, user_id)
    return found is not None and found.status in ADMINS


def management_refusal(found: ChatMember | None, kind: str) -> str | None:
    """Why this member may not configure the chat (a message key), or None when they may.

    Status alone is not enough: an administrator of a channel who may not post there, or
    of a group who may not change its info, could otherwise route the newsroom's posts
    into (or out of) a chat whose content they are not trusted with.
    """
    if found is None or found.status not in ADMINS:
        return "channels.not_admin"
    if found.status == ChatMemberStatus.OWNER:
        return None
    if kind == "channel":
        return None if getattr(found, "can_post_messages", False) else "channels.needs_post_right"
    return None if getattr(found, "can_change_info", False) else "channels.needs_info_right"


def may_post(found: ChatMember | None, kind: str) -> bool:
    """Whether a bot with this membership can post: channels need post rights."""
    if found is None:
        return False
    if found.status == ChatMemberStatus.OWNER:
        return True
    if found.status == ChatMemberStatus.ADMINISTRATOR:
        return kind != "channel" or bool(getattr(found, "can_post_messages", False))
    if found.status == ChatMemberStatus.MEMBER:
        return kind != "channel"
    if found.status == ChatMemberStatus.RESTRICTED:
        return kind != "channel" and bool(getattr(found, "can_send_messages", False))
    return False
