"""Telegram's side of ``newsbot check --online``: the token, the chats, the webhook.

A channel needs the bot as an administrator with the right to post; a group needs
it as a member allowed to send (or an administrator). The editors' chat is checked
the same way. ``getChatMember`` for the bot itself tells which.
"""

from __future__ import annotations

from telegram import (
    Bot,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberOwner,
    ChatMemberRestricted,
)
from telegram.constants import ChatType
from telegram.error import InvalidToken, TelegramError

from bot.catalog import Catalog
from bot.config import Settings
from bot.preflight import Finding, ok, problem


async def check_telegram(bot: Bot, settings: Settings, catalog: Catalog) -> list[Finding]:
    """The token, every catalog channel, the editors' chat and the webhook."""
    try:
        me = await bot.get_me()
    except InvalidToken:
        return [problem("NEWSBOT_BOT_TOKEN", "Telegram rejected the token (ask @BotFather)")]
    except TelegramError as exc:
        api = settings.telegram_api_url
        return [problem("Telegram", f"no answer from {api}: {exc.message}")]
    findings = [ok("token", f"the bot is @{me.username} (id {me.id})")]
    for channel in catalog.channels:
        findings.append(await check_chat(bot, me.id, channel.chat, f"channel {channel.chat}"))
    if settings.editors_chat_id is not None:
        chat = settings.editors_chat_id
        findings.append(await check_chat(bot, me.id, chat, f"editors' chat {chat}"))
    findings.append(await check_webhook(bot, settings))
    return findings


async def check_chat(bot: Bot, bot_id: int, chat_id: str | int, subject: str) -> Finding:
    """Reachable (``getChat``) and the bot allowed to post (``getChatMember`` for itself)."""
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramError as exc:
        return problem(subject, f"not reachable: {exc.message} (is the bot a member?)")
    try:
        member = await bot.get_chat_member(chat.id, bot_id)
    except TelegramError as exc:
        return problem(subject, f"the bot cannot see its own rights there: {exc.message}")
    refusal = posting_refusal(chat, member)
    title = chat.title or chat.username or str(chat.id)
    if refusal is not None:
        return problem(subject, f"{refusal} ({chat.type} {title!r}, id {chat.id})")
    return ok(subject, f"{chat.type} {title!r}, id {chat.id}, the bot may post ({member.status})")


def posting_refusal(chat: ChatFullInfo, member: ChatMember) -> str | None:
    """Why the bot may not post in ``chat``, as the operator would fix it; None if it may."""
    if isinstance(member, ChatMemberOwner):
        return None
    if isinstance(member, ChatMemberAdministrator):
        if chat.type == ChatType.CHANNEL and not member.can_post_messages:
            return "the bot is an administrator without the right to post messages"
        return None
    if isinstance(member, ChatMemberLeft | ChatMemberBanned):
        return f"the bot is not in this chat ({member.status}): add it"
    if chat.type == ChatType.CHANNEL:
        return (
            f"the bot is not an administrator ({member.status}): make it an administrator "
            "allowed to post messages"
        )
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return "the bot is restricted and may not send messages"
    if chat.permissions is not None and chat.permissions.can_send_messages is False:
        return "members may not send messages here: make the bot an administrator"
    return None


async def check_webhook(bot: Bot, settings: Settings) -> Finding:
    """What Telegram has registered, against what ``newsbot run`` will register."""
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        return problem("webhook", f"getWebhookInfo failed: {exc.message}")
    pending = f"{info.pending_update_count} updates pending"
    if info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M} UTC" if info.last_error_date else ""
        return problem(
            "webhook", f"Telegram's last delivery failed{when}: {info.last_error_message}"
        )
    if settings.webhook_url is None:
        if info.url:
            return ok(
                "webhook", f"set to {info.url}; `newsbot run` removes it and polls ({pending})"
            )
        return ok("webhook", f"none (long polling), {pending}")
    if info.url and info.url != settings.webhook_url:
        return ok("webhook", f"set to {info.url}; `newsbot run` replaces it ({pending})")
    return ok("webhook", f"{settings.webhook_url or 'none yet'} ({pending})")
