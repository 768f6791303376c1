"""The bot's own membership: removed or demoted pauses a chat, re-added resumes it.

A channel or group that removes the bot (or takes away its right to post) is paused
with its configuration kept, and the admins who connected it are told once, on the
change; when the bot is back with the rights it needs, posting resumes (unless an
admin had paused it on purpose). A reader who blocks the bot is deactivated. A group
that becomes a supergroup keeps its settings under the new id.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, ContextTypes, MessageHandler, filters

from bot.storage.audit import audit
from bot.storage.chats import chats_at, find_chat, managers_of, move_chat_address
from bot.storage.deliveries import drop_open_deliveries
from handlers.admins import may_post
from handlers.buttons import HANDLER
from handlers.services import Services

log = logging.getLogger(__name__)


class ChatMembers:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def on_my_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        changed = update.my_chat_member
        if changed is None:
            return
        chat = changed.chat
        new = changed.new_chat_member
        now = self.s.clock.now()
        if chat.type == "private":
            if new.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
                async with self.s.sessions.begin() as session:
                    for row in await chats_at(session, str(chat.id)):
                        row.active, row.updated_at = False, now
                        await drop_open_deliveries(session, row.id, now, "blocked by the user")
            return
        can_post = may_post(new, chat.type)
        actor = changed.from_user.id if changed.from_user else None
        notices: list[tuple[int, str, str]] = []
        async with self.s.sessions.begin() as session:
            rows = [r for r in await chats_at(session, str(chat.id)) if r.active]
            if chat.username:  # catalog channels are often listed by @username
                rows += [r for r in await chats_at(session, f"@{chat.username}") if r.active]
            changed_rows = []
            for row in rows:
                # A failed send may have paused it a moment earlier (no reason recorded):
                # that still counts as news for its admins.
                if not can_post and row.pause_reason not in ("removed", "admin"):
                    row.paused, row.pause_reason = True, "removed"
                elif can_post and row.paused and row.pause_reason != "admin":
                    row.paused, row.pause_reason = False, None
                else:
                    continue
                row.updated_at = now
                changed_rows.append(row)
                await audit(
                    session, now, actor, row, "bot_removed" if row.paused else "bot_restored"
                )
                if row.paused:
                    await drop_open_deliveries(session, row.id, now, "bot removed from the chat")
            if changed_rows:
                key = "channels.paused_notice" if not can_post else "channels.resumed_notice"
                title = changed_rows[0].title or chat.title or str(chat.id)
                for user_id in await managers_of(session, [r.id for r in changed_rows]):
                    notices.append((user_id, key, title))
        for user_id, key, title in notices:  # after the commit: the change stands either way
            await self.tell(context, user_id, key, title)

    async def tell(
        self, context: ContextTypes.DEFAULT_TYPE, user_id: int, key: str, title: str
    ) -> None:
        lang = await self.user_language(user_id)
        try:
            await context.bot.send_message(
                user_id, self.s.translator.gettext(lang, key, chat=title), parse_mode=ParseMode.HTML
            )
        except TelegramError as exc:
            log.info("could not tell admin %s about %s: %s", user_id, title, exc)

    async def user_language(self, user_id: int) -> str:
        async with self.s.sessions() as session:
            row = await find_chat(session, str(user_id))
        if row is not None and row.language in self.s.translator.languages:
            return row.language
        return self.s.translator.default

    async def on_migrate(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """``migrate_to_chat_id`` (in the old group) or ``migrate_from_chat_id`` (in the new)."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            moved = await move_chat_address(session, str(old), str(new), "supergroup", now)
            if moved:
                for row in await chats_at(session, str(new)):
                    await audit(session, now, None, row, "migrated", f"{old} -> {new}")
        if moved:
            log.info("group %s became supergroup %s: %d destinations moved", old, new, moved)

    def handlers(self) -> list[HANDLER]:
        return [
            ChatMemberHandler(self.on_my_member, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate),
        ]
