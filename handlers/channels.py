"""Channel and group admins: connect a chat, choose its editions, pause, disconnect.

Only admins with the rights that matter configure a chat (a channel's: may post
messages; a group's: may change its info, or its creator), and that is asked of
Telegram (getChatMember) at the moment of every change, not remembered: a former
admin's old buttons change nothing, nor do those of an admin whose rights were cut.
The bot must be able to post there too. Connecting starts in private chat
with Telegram's own chat picker (``KeyboardButtonRequestChat``), which works for
private channels without a @username; groups can also be configured from inside
(``/settings`` in the group or in one of its forum topics, which then gets its own
edition). Every change is written to the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    Bot,
    ChatAdministratorRights,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestChat,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.callbacks import Action
from bot.i18n import SafeHTML
from bot.outbox.postform import PREVIEW_CHOICES
from bot.outbox.render import escape
from bot.storage.audit import audit
from bot.storage.chats import (
    PRIORITY,
    add_chat_region,
    add_manager,
    chat_region_codes,
    find_chat,
    find_connected_chat,
    managed_chats,
    set_chat_regions,
    toggle_chat_region,
)
from bot.storage.deliveries import drop_open_deliveries
from bot.storage.follows import Follows, add_chat_topics, chat_follows, toggle_chat_topic
from bot.storage.models import ChatRow
from bot.telegram.publisher import chat_id_of
from handlers.follows import topic_buttons
from handlers.services import Services
from handlers.settings import CHECK, HANDLER, Guard, chunk, edit
from handlers.subscriptions import follow_lines, parse_link
from handlers.topics import Topics, topic_name_of

log = logging.getLogger(__name__)

CHANNEL_REQUEST = 1
GROUP_REQUEST = 2
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
#: What the catalog's ``[[channels]]`` set and rewrite at every start (editions, language,
#: night silence, link previews; presence too, so no disconnect): read-only on the card
#: of a catalog chat, or an admin's change would last until the next restart. Pause,
#: topics, appeals and the weekly post are not in the catalog and stay the admins'.
CATALOG_ACTIONS = frozenset({"cE", "cR", "cL", "cN", "cV", "cX", "cY"})


def catalog_managed(row: ChatRow) -> bool:
    """Whether the catalog file manages this chat (an active ``[[channels]]`` entry)."""
    return row.origin == "catalog" and row.active


def picker_rights(right: str) -> ChatAdministratorRights:
    """The admin rights Telegram's chat picker asks for: ``right`` and nothing else."""
    return ChatAdministratorRights(**{**ChatAdministratorRights.no_rights().to_dict(), right: True})


# Channels are configured by admins who may post there, groups by admins who may change
# the group's info (and by their creators); the picker offers only such chats.
POST_RIGHTS = picker_rights("can_post_messages")
INFO_RIGHTS = picker_rights("can_change_info")


async def member(bot: Bot, chat: int | str, user_id: int) -> ChatMember | None:
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


class Channels:
    """``/channels``, the chat picker and the per-chat screens (callback actions: ``c*``)."""

    def __init__(self, services: Services, guard: Guard) -> None:
        self.s = services
        self.g = guard
        self.tr = services.translator
        self.catalog = services.catalog

    # ---- screens -------------------------------------------------------------------

    def picker(self, lang: str) -> ReplyKeyboardMarkup:
        channel = KeyboardButtonRequestChat(
            request_id=CHANNEL_REQUEST,
            chat_is_channel=True,
            user_administrator_rights=POST_RIGHTS,
            bot_administrator_rights=POST_RIGHTS,
            request_title=True,
        )
        group = KeyboardButtonRequestChat(
            request_id=GROUP_REQUEST,
            chat_is_channel=False,
            user_administrator_rights=INFO_RIGHTS,
            bot_is_member=True,
            request_title=True,
        )
        return ReplyKeyboardMarkup(
            [
                [
                    KeyboardButton(
                        self.tr.plain(lang, "channels.connect_button"), request_chat=channel
                    )
                ],
                [
                    KeyboardButton(
                        self.tr.plain(lang, "channels.connect_group_button"), request_chat=group
                    )
                ],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )

    def language_label(self, lang: str) -> str:
        return self.tr.language_name(lang) if lang in self.tr.languages else lang.upper()

    def edition_name(self, region: str, edition_lang: str, lang: str) -> str:
        """A region and a language ("Georgia · English"), named in ``lang``."""
        return f"{self.catalog.region_name(region, lang)} · {self.language_label(edition_lang)}"

    def editor(
        self, row: ChatRow, regions: Sequence[str], lang: str, uid: int, cid: int, setup: int
    ) -> InlineKeyboardMarkup:
        """Region toggles and language choice for one chat, then Done."""
        languages = [
            self.g.button(
                (CHECK if code == row.language else "") + self.language_label(code),
                uid,
                cid,
                "cL",
                row.id,
                index,
                setup,
            )
            for index, code in enumerate(self.catalog.languages)
        ]
        toggles = [
            self.g.button(
                (CHECK if region.code in regions else "")
                + self.catalog.region_name(region.code, lang),
                uid,
                cid,
                "cR",
                row.id,
                index,
                setup,
            )
            for index, region in enumerate(self.catalog.regions)
        ]
        done = self.g.button(
            self.tr.plain(lang, "settings.done_button"), uid, cid, "cD", row.id, setup
        )
        return InlineKeyboardMarkup([*chunk(languages, 3), *chunk(toggles, 2), [done]])

    def details(
        self,
        row: ChatRow,
        regions: Sequence[str],
        lang: str,
        uid: int,
        cid: int,
        follows: Follows | None = None,
    ) -> tuple[str, InlineKeyboardMarkup]:
        tr = self.tr
        names = ", ".join(self.catalog.region_name(code, lang) for code in regions)
        text = tr.gettext(
            lang,
            "channels.details",
            chat=self.title(row),
            regions=names or tr.plain(lang, "settings.regions_none"),
            language=self.language_label(row.language),
            status=tr.plain(
                lang, "channels.status_paused" if row.paused else "channels.status_active"
            ),
        )
        text += "".join("\n" + line for line in self.extras(row, lang, follows))
        managed = catalog_managed(row)
        if managed:
            text += "\n\n" + tr.gettext(lang, "channels.catalog_note")

        def b(key: str, name: str, *args: int) -> InlineKeyboardButton:
            return self.g.button(tr.plain(lang, key), uid, cid, name, row.id, *args)

        pause = (
            b("channels.resume_button", "cU") if row.paused else b("channels.pause_button", "cP")
        )
        rows = [] if managed else [[b("channels.edit_button", "cE")]]
        if self.catalog.topics:
            rows.append([b("channels.topics_button", "cK")])
        rows.append([pause] if managed else [pause, b("channels.disconnect_button", "cX")])
        # The buttons name the state they set (1 on, 0 off): an old one tapped twice is a no-op.
        if self.catalog.donate is not None:
            if row.hide_appeals:
                rows.append([b("settings.show_appeals_button", "cA", 0)])
            else:
                rows.append([b("settings.hide_appeals_button", "cA", 1)])
        if row.weekly_mostread:
            rows.append([b("settings.weekly_off_button", "cW", 0)])
        else:
            rows.append([b("settings.weekly_on_button", "cW", 1)])
        if not managed:
            night = row.silent_at_night
            key = "channels.silent_off_button" if night else "channels.silent_on_button"
            rows.append([b(key, "cN", 0 if night else 1)])
            rows.extend(chunk(self.preview_buttons(row, lang, uid, cid), 3))
        if cid > 0:  # the list of chats only exists in private chat
            rows.append([self.g.button(tr.plain(lang, "settings.back_button"), uid, cid, "cB")])
        return text, InlineKeyboardMarkup(rows)

    async def card(
        self, session: AsyncSession, row: ChatRow, lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The chat's card from what is stored now: regions, topics and options."""
        regions = await chat_region_codes(session, row.id)
        return self.details(row, regions, lang, uid, cid, await chat_follows(session, row.id))

    def preview_buttons(
        self, row: ChatRow, lang: str, uid: int, cid: int
    ) -> list[InlineKeyboardButton]:
        """One button per link-preview choice, the current one checked."""
        return [
            self.g.button(
                (CHECK if choice == row.link_preview else "")
                + self.tr.plain(lang, f"channels.preview_{choice}"),
                uid,
                cid,
                "cV",
                row.id,
                index,
            )
            for index, choice in enumerate(PREVIEW_CHOICES)
        ]

    def extras(self, row: ChatRow, lang: str, follows: Follows | None = None) -> list[str]:
        """Lines under the details: donation appeals (when the outlet has any), weekly post.

        The weekly most-read comes on Mondays at the chat's digest time in its time zone,
        which channel admins do not set, so the zone is named.
        """
        tr = self.tr
        lines = follow_lines(tr, self.catalog, follows or Follows(), lang)
        if self.catalog.donate is not None:
            key = "settings.appeals_hidden" if row.hide_appeals else "settings.appeals_shown"
            appeals = SafeHTML(tr.gettext(lang, key))
            lines.append(tr.gettext(lang, "channels.appeals_line", appeals=appeals))
        if row.weekly_mostread:
            hours, minutes = divmod(row.digest_minute % 1440, 60)
            at = f"{tr.format_time(lang, time(hours, minutes))} ({row.timezone})"
            weekly = tr.gettext(lang, "settings.weekly_on", time=at)
        else:
            weekly = tr.gettext(lang, "settings.weekly_off")
        lines.append(tr.gettext(lang, "settings.weekly_line", weekly=SafeHTML(weekly)))
        lines.append(
            tr.gettext(lang, "channels.silent_on" if row.silent_at_night else "channels.silent_off")
        )
        preview = tr.plain(lang, f"channels.preview_{row.link_preview}")
        lines.append(tr.gettext(lang, "channels.preview_line", preview=preview))
        return lines

    @staticmethod
    def title(row: ChatRow) -> str:
        """The chat's title; a forum topic's is "Group › Topic" (or "Group #7" until named)."""
        base = row.title or row.address
        if not row.thread_id:
            return base
        return f"{base} › {row.topic_name}" if row.topic_name else f"{base} #{row.thread_id}"

    async def chat_list(
        self, session: AsyncSession, lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        rows = await managed_chats(session, uid)
        tr = self.tr
        if not rows:
            return tr.gettext(lang, "channels.list_empty"), None
        lines = [tr.gettext(lang, "channels.list_heading")]
        buttons = []
        for row in rows:
            key = "channels.item_paused" if row.paused else "channels.item_active"
            regions = await chat_region_codes(session, row.id)
            names = ", ".join(self.catalog.region_name(code, lang) for code in regions)
            edition = escape(f"{names or '—'} · {self.language_label(row.language)}")
            lines.append(tr.gettext(lang, key, chat=self.title(row)) + f"\n    {edition}")
            buttons.append([self.g.button(self.title(row), uid, cid, "cM", row.id)])
        return "\n".join(lines), InlineKeyboardMarkup(buttons)

    # ---- commands ------------------------------------------------------------------

    async def channels(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/channels in private chat: the picker buttons, then the chats already connected."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if not await self.g.allow_command(update):
            return
        lang = await self.s.language_for(update)
        await message.reply_text(
            self.tr.gettext(lang, "channels.intro", outlet=self.catalog.outlet.name),
            parse_mode=ParseMode.HTML,
            reply_markup=self.picker(lang),
        )
        async with self.s.sessions() as session:
            text, markup = await self.chat_list(session, lang, user.id, chat.id)
        if markup is not None:
            await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def on_chat_shared(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The admin picked a chat: verify both memberships, register it, show the editor."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or message.chat_shared is None:
            return
        if not await self.g.allow_command(update):
            return
        shared = message.chat_shared
        lang = await self.s.language_for(update)
        try:
            target = await context.bot.get_chat(shared.chat_id)
        except TelegramError as exc:
            log.info("shared chat %s is not reachable: %s", shared.chat_id, exc)
            await self.reply(
                message, lang, "channels.bot_not_admin", shared.title or str(shared.chat_id)
            )
            return
        title = target.title or shared.title or str(shared.chat_id)
        await self.connect(
            message,
            context.bot,
            user.id,
            lang,
            target.id,
            0,
            target.type,
            title,
            username=target.username,
        )

    async def group_settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings (or /channels) inside a group or one of its forum topics."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if not await self.g.allow_command(update):
            return
        lang = self.tr.pick_language(user.language_code)
        thread = message.message_thread_id if message.is_topic_message else None
        await self.connect(
            message,
            context.bot,
            user.id,
            lang,
            chat.id,
            thread or 0,
            chat.type,
            chat.title or "",
            username=chat.username,
        )

    async def group_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start <payload>`` in a group: what Telegram sends after a ``startgroup=`` link.

        The payload names an edition as the private deep link does; the group (or the forum
        topic it was sent in) is connected with it after the same rights check as
        ``/settings``, and the editor follows. Without a payload it is ``/settings``.
        """
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if not context.args:
            await self.group_settings(update, context)
            return
        if not await self.g.allow_command(update):
            return
        lang = self.tr.pick_language(user.language_code)
        link = parse_link(context.args[0], self.catalog, lang)
        if link is None:
            await message.reply_text(
                self.tr.gettext(lang, "channels.group_link_invalid"), parse_mode=ParseMode.HTML
            )
            return
        thread = message.message_thread_id if message.is_topic_message else None
        title = chat.title or ""
        bot = context.bot
        edition = (link.region, link.language)
        await self.connect(
            message,
            bot,
            user.id,
            lang,
            chat.id,
            thread or 0,
            chat.type,
            title,
            edition,
            link.topics,
            username=chat.username,
        )

    async def reply(self, message: Message, lang: str, key: str, title: str) -> None:
        await message.reply_text(self.tr.gettext(lang, key, chat=title), parse_mode=ParseMode.HTML)

    async def connect(
        self,
        message: Message,
        bot: Bot,
        user_id: int,
        lang: str,
        chat_id: int,
        thread: int,
        kind: str,
        title: str,
        edition: tuple[str, str] | None = None,
        topics: Sequence[str] = (),
        *,
        username: str | None = None,
    ) -> None:
        """Register the chat for an admin with the rights (and, from a link, its edition).

        A catalog chat keeps the catalog's editions: its admin gets its card instead of
        the editor. One the catalog no longer lists becomes the admin's own.
        """
        in_group = message.chat.id == chat_id
        if kind not in ("channel", "group", "supergroup"):
            await self.reply(message, lang, "channels.bot_not_admin", title)
            return
        now = self.s.clock.now()
        refusal = management_refusal(await member(bot, chat_id, user_id), kind)
        if refusal is not None:
            async with self.s.sessions.begin() as session:
                await audit(
                    session,
                    now,
                    user_id,
                    await find_chat(session, str(chat_id), thread),
                    "refused",
                    f"connect {chat_id}",
                )
            if in_group and refusal == "channels.not_admin":
                refusal = "channels.group_refusal"
            await self.reply(message, lang, refusal, title)
            return
        if not may_post(await member(bot, chat_id, bot.id), kind):
            await self.reply(message, lang, "channels.bot_not_admin", title)
            return
        async with self.s.sessions.begin() as session:
            row = await find_connected_chat(session, chat_id, username, thread)
            if row is not None and row.origin == "catalog" and not row.active:
                row.origin = "user"
            if row is None:
                row = ChatRow(
                    address=str(chat_id),
                    thread_id=thread,
                    kind=kind,
                    language=lang
                    if lang in self.catalog.languages
                    else self.catalog.default_language,
                    origin="user",
                    mode="instant",
                    created_at=now,
                )
                session.add(row)
            row.title = title[:256]
            if thread and row.topic_name is None:  # later renames come as forum_topic_edited
                row.topic_name = topic_name_of(message)
            row.kind = kind
            row.priority = PRIORITY.get(kind, 1)
            row.active, row.paused, row.pause_reason = True, False, None
            row.updated_at = now
            await session.flush()
            await add_manager(session, row.id, user_id)
            await audit(session, now, user_id, row, "connect", kind)
            managed = catalog_managed(row)
            if edition is not None and not managed:
                region, row.language = edition
                await add_chat_region(session, row.id, region)
                await audit(session, now, user_id, row, "region_on", region)
                await add_chat_topics(session, row.id, topics)  # a link may name topics
                for code in topics:
                    await audit(session, now, user_id, row, "topic_on", code)
            regions = await chat_region_codes(session, row.id)
            key = "channels.connected" if not in_group else "channels.editions_prompt"
            text = self.tr.gettext(lang, key, chat=self.title(row))
            if edition is not None:
                text = self.tr.gettext(
                    lang,
                    "channels.group_link_connected",
                    chat=self.title(row),
                    edition=self.edition_name(*edition, lang),
                )
            markup = self.editor(row, regions, lang, user_id, message.chat.id, 1)
            if managed:
                card, markup = await self.card(session, row, lang, user_id, message.chat.id)
                note = self.tr.gettext(lang, "channels.catalog_connected", chat=self.title(row))
                text = note + "\n\n" + card
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    # ---- buttons -------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        tapped = await self.g.tap(update, "c")
        if tapped is None:
            return
        query, action = tapped
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = await self.s.language_for(update)
        if action.name == "cB":
            async with self.s.sessions() as session:
                text, markup = await self.chat_list(session, lang, user.id, chat.id)
            await edit(query, text, markup)
            await self.done(update)
            return
        pk = action.int_arg(0)
        async with self.s.sessions() as session:
            row = await session.get(ChatRow, pk) if pk is not None else None
            title = self.title(row) if row is not None else ""
            address = row.address if row is not None else ""
            kind = row.kind if row is not None else ""
            managed = row is not None and catalog_managed(row)
        if row is None or kind == "private" or not row.active:
            await self.g.answer(update, "errors.stale_button", alert=True)
            return
        if managed and action.name in CATALOG_ACTIONS:  # an editor shown before it was
            await self.alert(update, lang, "channels.catalog_refusal", title)
            return
        bot = context.bot
        refusal = management_refusal(await member(bot, chat_id_of(address), user.id), kind)
        if refusal is not None:
            async with self.s.sessions.begin() as session:
                await audit(
                    session,
                    self.s.clock.now(),
                    user.id,
                    await session.get(ChatRow, pk),
                    "refused",
                    action.name,
                )
            await self.alert(update, lang, refusal, title)
            return
        if action.name == "cD" and not may_post(
            await member(bot, chat_id_of(address), bot.id), kind
        ):
            await self.alert(update, lang, "channels.bot_not_admin", title)
            return
        await self.apply(update, context, action, row.id, lang)

    async def alert(self, update: Update, lang: str, key: str, title: str) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer(self.tr.plain(lang, key, chat=title)[:200], show_alert=True)
        except TelegramError as exc:
            log.info("could not answer a callback query: %s", exc)

    async def done(self, update: Update) -> None:
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:
                log.info("could not answer a callback query: %s", exc)

    async def apply(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, action: Action, pk: int, lang: str
    ) -> None:
        """Store one change (the user is an admin right now) and redraw the message."""
        query, user, chat = update.callback_query, update.effective_user, update.effective_chat
        assert query is not None and user is not None and chat is not None
        uid, cid = user.id, chat.id
        now = self.s.clock.now()
        name = action.name
        index = action.int_arg(1)
        setup = action.int_arg(2) or 0
        text: str | None = None
        markup: InlineKeyboardMarkup | None = None
        test_post: tuple[str, int, str] | None = None
        no_regions = False
        async with self.s.sessions.begin() as session:
            row = await session.get(ChatRow, pk)
            if row is None:
                return
            if name == "cR" and index is not None and index < len(self.catalog.regions):
                code = self.catalog.regions[index].code
                on = await toggle_chat_region(session, pk, code)
                await audit(session, now, uid, row, "region_on" if on else "region_off", code)
                markup = self.editor(
                    row, await chat_region_codes(session, pk), lang, uid, cid, setup
                )
                text = None
            elif name == "cL" and index is not None and index < len(self.catalog.languages):
                row.language = self.catalog.languages[index]
                await audit(session, now, uid, row, "language", row.language)
                markup = self.editor(
                    row, await chat_region_codes(session, pk), lang, uid, cid, setup
                )
            elif name == "cK" or (name == "cT" and index is not None):
                if not await self.topic_change(session, row, name, index, uid, now):
                    await self.g.answer(update, "errors.stale_button", alert=True)
                    return
                text, markup = self.topics_screen(
                    row, await chat_follows(session, pk), lang, uid, cid
                )
            elif name == "cE":
                regions = await chat_region_codes(session, pk)
                text = self.tr.gettext(lang, "channels.editions_prompt", chat=self.title(row))
                markup = self.editor(row, regions, lang, uid, cid, 0)
            elif name == "cD" and not await chat_region_codes(session, pk):
                no_regions = True  # a chat without regions would wait for news forever
            elif name in ("cD", "cM"):
                if name == "cD" and action.int_arg(1) == 1:
                    test_post = (row.address, row.thread_id, row.language)
                    await audit(session, now, uid, row, "test_post")
                text, markup = await self.card(session, row, lang, uid, cid)
            elif name in ("cP", "cU"):
                row.paused = name == "cP"
                row.pause_reason = "admin" if row.paused else None
                row.updated_at = now
                await audit(session, now, uid, row, "pause" if row.paused else "resume")
                note = self.tr.gettext(
                    lang,
                    "channels.paused" if row.paused else "channels.resumed",
                    chat=self.title(row),
                )
                details, markup = await self.card(session, row, lang, uid, cid)
                text = note + "\n\n" + details
            elif name in ("cA", "cW") and index in (0, 1):
                on = index == 1
                if name == "cA":
                    row.hide_appeals = on
                    await audit(session, now, uid, row, "appeals_hidden" if on else "appeals_shown")
                else:
                    row.weekly_mostread = on
                    await audit(session, now, uid, row, "weekly_on" if on else "weekly_off")
                row.updated_at = now
                text, markup = await self.card(session, row, lang, uid, cid)
            elif name == "cN" and index in (0, 1):
                row.silent_at_night = index == 1
                row.updated_at = now
                await audit(session, now, uid, row, "silent_on" if index else "silent_off")
                text, markup = await self.card(session, row, lang, uid, cid)
            elif name == "cV" and index is not None and index < len(PREVIEW_CHOICES):
                row.link_preview = PREVIEW_CHOICES[index]
                row.updated_at = now
                await audit(session, now, uid, row, "link_preview", row.link_preview)
                text, markup = await self.card(session, row, lang, uid, cid)
            elif name == "cX":
                text = self.tr.gettext(lang, "channels.confirm_disconnect", chat=self.title(row))
                markup = InlineKeyboardMarkup(
                    [
                        [
                            self.g.button(
                                self.tr.plain(lang, "channels.confirm_disconnect_button"),
                                uid,
                                cid,
                                "cY",
                                pk,
                            ),
                            self.g.button(
                                self.tr.plain(lang, "channels.cancel_button"), uid, cid, "cM", pk
                            ),
                        ]
                    ]
                )
            elif name == "cY":
                row.active = False
                row.updated_at = now
                await set_chat_regions(session, pk, [])
                await drop_open_deliveries(session, pk, now, "disconnected")
                await audit(session, now, uid, row, "disconnect")
                text = self.tr.gettext(lang, "channels.disconnected", chat=self.title(row))
            else:
                await self.g.answer(update, "errors.stale_button", alert=True)
                return
        if no_regions:
            await self.g.answer(update, "settings.no_regions", alert=True)
            return
        if test_post is not None:
            address, thread, post_lang = test_post
            try:
                await context.bot.send_message(
                    chat_id_of(address),
                    self.tr.gettext(
                        post_lang, "channels.test_post", outlet=self.catalog.outlet.name
                    ),
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread or None,
                )
            except TelegramError as exc:
                log.info("test post to %s failed: %s", address, exc)
                await self.alert(update, lang, "channels.bot_not_admin", self.title(row))
                return
            text = (
                self.tr.gettext(lang, "channels.test_sent", chat=self.title(row))
                + "\n\n"
                + (text or "")
            )
        await edit(query, text, markup)
        await self.done(update)

    async def topic_change(
        self,
        session: AsyncSession,
        row: ChatRow,
        name: str,
        index: int | None,
        uid: int,
        now: datetime,
    ) -> bool:
        """``cT``: turn one topic on or off (audited); False for an index the catalog lacks."""
        if name != "cT":
            return True
        if index is None or index >= len(self.catalog.topics):
            return False
        code = self.catalog.topics[index].code
        on = await toggle_chat_topic(session, row.id, code)
        row.updated_at = now
        await audit(session, now, uid, row, "topic_on" if on else "topic_off", code)
        return True

    def topics_screen(
        self, row: ChatRow, follows: Follows, lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup]:
        """Topic toggles for one chat, then back to its card."""
        text = self.tr.gettext(lang, "channels.topics_prompt", chat=self.title(row))
        rows = topic_buttons(self.g, self.catalog, follows.topics, lang, uid, cid, "cT", row.id)
        back = self.g.button(self.tr.plain(lang, "settings.back_button"), uid, cid, "cM", row.id)
        return text, InlineKeyboardMarkup([*rows, [back]])

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        groups = filters.ChatType.GROUPS
        return [
            CommandHandler("channels", self.channels, filters=private),
            CommandHandler(["settings", "channels"], self.group_settings, filters=groups),
            CommandHandler("start", self.group_start, filters=groups),
            MessageHandler(private & filters.StatusUpdate.CHAT_SHARED, self.on_chat_shared),
            CallbackQueryHandler(self.on_button, pattern=r"^c[A-Z]"),
            *Topics(self.s).handlers(),
        ]
