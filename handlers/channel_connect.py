"""Connecting a channel or group: ``/channels``, Telegram's chat picker, ``/settings`` and
``startgroup=`` links inside a group.

Only admins with the rights that matter configure a chat (a channel's: may post
messages; a group's: may change its info, or its creator), asked of Telegram at the
moment (``handlers.admins``); the bot must be able to post there too. Connecting starts
in private chat with Telegram's own chat picker (``KeyboardButtonRequestChat``), which
works for private channels without a @username; groups can also be configured from
inside (``/settings`` in the group or in one of its forum topics, which then gets its own
edition). Every connection and refusal is written to the audit log; the editor that
follows is ``handlers.channels``'s to handle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import Bot, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.storage.audit import audit
from bot.storage.chats import (
    add_chat_region,
    add_manager,
    chat_region_codes,
    connect_chat,
    find_chat,
)
from bot.storage.follows import add_chat_topics
from bot.storage.models import ChatRow
from handlers.admins import management_refusal, may_post, member
from handlers.buttons import HANDLER, Capability
from handlers.channel_screens import ChannelScreens, catalog_managed
from handlers.chatnames import chat_title, topic_name_of
from handlers.subscriptions import parse_link

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """The chat to connect, as Telegram named it, and what a link asked for."""

    chat_id: int
    thread: int
    kind: str
    title: str
    edition: tuple[str, str] | None = None
    topics: Sequence[str] = ()
    username: str | None = None  # finds a catalog channel listed by @username


class ChannelConnect(Capability[ChannelScreens]):
    """Connects a chat for an admin with the rights, then shows its editor."""

    async def channels(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/channels in private chat: the picker buttons, then the chats already connected."""
        command = await self.g.command(update)
        if command is None:
            return
        message, user, chat = command
        lang = await self.s.language_for(update)
        await message.reply_text(
            self.tr.gettext(lang, "channels.intro", outlet=self.catalog.outlet.name),
            parse_mode=ParseMode.HTML,
            reply_markup=self.screens.picker(lang),
        )
        async with self.s.sessions() as session:
            text, markup = await self.screens.chat_list(session, lang, user.id, chat.id)
        if markup is not None:
            await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def on_chat_shared(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The admin picked a chat: verify both memberships, register it, show the editor."""
        command = await self.g.command(update)
        if command is None or command.message.chat_shared is None:
            return
        message, user, _chat = command
        shared = command.message.chat_shared
        lang = await self.s.language_for(update)
        try:
            found = await context.bot.get_chat(shared.chat_id)
        except TelegramError as exc:
            log.info("shared chat %s is not reachable: %s", shared.chat_id, exc)
            await self.reply(
                message, lang, "channels.bot_not_admin", shared.title or str(shared.chat_id)
            )
            return
        title = found.title or shared.title or str(shared.chat_id)
        target = Target(found.id, 0, found.type, title, username=found.username)
        await self.connect(message, context.bot, user.id, lang, target)

    async def group_settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings (or /channels) inside a group or one of its forum topics."""
        command = await self.g.command(update)
        if command is None:
            return
        message, user, chat = command
        lang = self.tr.pick_language(user.language_code)
        thread = message.message_thread_id if message.is_topic_message else None
        target = Target(chat.id, thread or 0, chat.type, chat.title or "", username=chat.username)
        await self.connect(message, context.bot, user.id, lang, target)

    async def group_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start <payload>`` in a group: what Telegram sends after a ``startgroup=`` link.

        The payload names an edition as the private deep link does; the group (or the forum
        topic it was sent in) is connected with it after the same rights check as
        ``/settings``, and the editor follows. Without a payload it is ``/settings``.
        """
        if not context.args:
            await self.group_settings(update, context)
            return
        command = await self.g.command(update)
        if command is None:
            return
        message, user, chat = command
        lang = self.tr.pick_language(user.language_code)
        link = parse_link(context.args[0], self.catalog, lang)
        if link is None:
            await message.reply_text(
                self.tr.gettext(lang, "channels.group_link_invalid"), parse_mode=ParseMode.HTML
            )
            return
        thread = message.message_thread_id if message.is_topic_message else None
        edition = (link.region, link.language)
        target = Target(
            chat.id, thread or 0, chat.type, chat.title or "", edition, link.topics, chat.username
        )
        await self.connect(message, context.bot, user.id, lang, target)

    async def reply(self, message: Message, lang: str, key: str, title: str) -> None:
        await message.reply_text(self.tr.gettext(lang, key, chat=title), parse_mode=ParseMode.HTML)

    async def connect(
        self, message: Message, bot: Bot, user_id: int, lang: str, target: Target
    ) -> None:
        """Register the chat for an admin with the rights (and, from a link, its edition).

        A catalog chat keeps the catalog's editions: its admin gets its card instead of
        the editor. One the catalog no longer lists becomes the admin's own.
        """
        if target.kind not in ("channel", "group", "supergroup"):
            await self.reply(message, lang, "channels.bot_not_admin", target.title)
            return
        refusal = management_refusal(await member(bot, target.chat_id, user_id), target.kind)
        if refusal is not None:
            await self.refused(user_id, target, self.s.clock.now())
            if message.chat.id == target.chat_id and refusal == "channels.not_admin":
                refusal = "channels.group_refusal"
            await self.reply(message, lang, refusal, target.title)
            return
        if not may_post(await member(bot, target.chat_id, bot.id), target.kind):
            await self.reply(message, lang, "channels.bot_not_admin", target.title)
            return
        async with self.s.sessions.begin() as session:
            row = await self.register(session, message, user_id, lang, target)
            cid = message.chat.id
            if catalog_managed(row):
                card, markup = await self.screens.card(session, row, lang, user_id, cid)
                note = self.tr.gettext(lang, "channels.catalog_connected", chat=chat_title(row))
                text: str = note + "\n\n" + card
            else:
                text = self.connected_text(row, lang, target, in_group=cid == target.chat_id)
                regions = await chat_region_codes(session, row.id)
                markup = self.screens.editor(row, regions, lang, user_id, cid, 1)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def refused(self, user_id: int, target: Target, now: datetime) -> None:
        async with self.s.sessions.begin() as session:
            row = await find_chat(session, str(target.chat_id), target.thread)
            await audit(session, now, user_id, row, "refused", f"connect {target.chat_id}")

    async def register(
        self, session: AsyncSession, message: Message, user_id: int, lang: str, target: Target
    ) -> ChatRow:
        """The chat's row, created or reactivated, with this admin as a manager (audited)."""
        now = self.s.clock.now()
        language = lang if lang in self.catalog.languages else self.catalog.default_language
        row = await connect_chat(
            session,
            target.chat_id,
            target.username,
            target.thread,
            kind=target.kind,
            title=target.title,
            topic_name=topic_name_of(message),
            language=language,
            now=now,
        )
        await add_manager(session, row.id, user_id)
        await audit(session, now, user_id, row, "connect", target.kind)
        if target.edition is not None and not catalog_managed(row):
            region, row.language = target.edition
            await add_chat_region(session, row.id, region)
            await audit(session, now, user_id, row, "region_on", region)
            await add_chat_topics(session, row.id, target.topics)  # a link may name topics
            for code in target.topics:
                await audit(session, now, user_id, row, "topic_on", code)
        return row

    def connected_text(self, row: ChatRow, lang: str, target: Target, *, in_group: bool) -> str:
        if target.edition is not None:
            return self.tr.gettext(
                lang,
                "channels.group_link_connected",
                chat=chat_title(row),
                edition=self.screens.edition_name(*target.edition, lang),
            )
        key = "channels.connected" if not in_group else "channels.editions_prompt"
        return self.tr.gettext(lang, key, chat=chat_title(row))

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        groups = filters.ChatType.GROUPS
        return [
            CommandHandler("channels", self.channels, filters=private),
            CommandHandler(["settings", "channels"], self.group_settings, filters=groups),
            CommandHandler("start", self.group_start, filters=groups),
            MessageHandler(private & filters.StatusUpdate.CHAT_SHARED, self.on_chat_shared),
        ]
