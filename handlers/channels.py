"""Channel and group admins configure a connected chat: editions, topics, options, pause,
disconnect; a test post on Done.

Every tap is checked against Telegram at that moment (``handlers.admins``): a former
admin's old buttons change nothing, nor do those of an admin whose rights were cut; a
refusal is written to the audit log like every change. :meth:`Channels.taps` is the
dispatch table, one small function per action, each registered as its own handler;
the screens are ``handlers.channel_screens``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.callbacks import Action
from bot.chat_ids import chat_id_of
from bot.outbox.postform import PREVIEW_CHOICES
from bot.outbox.queue import ChatGone, Migrated, Outcome, Retry, Unknown
from bot.storage.audit import audit
from bot.storage.chats import (
    chat_by_id,
    chat_region_codes,
    move_chat_address,
    set_chat_regions,
    toggle_chat_region,
)
from bot.storage.deliveries import drop_open_deliveries
from bot.storage.delivery_outcomes import close_chat
from bot.storage.follows import chat_follows, toggle_chat_topic
from bot.storage.models import ChatRow
from bot.telegram.publisher import interpret
from handlers.admins import management_refusal, may_post, member
from handlers.buttons import HANDLER, Callback, Capability, acknowledge, edit, tap_handlers
from handlers.channel_screens import CATALOG_ACTIONS, ChannelScreens, catalog_managed
from handlers.chatnames import chat_title

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
STALE = "errors.stale_button"


@dataclass
class Tapped:
    """One verified tap by an admin with the rights right now, on the chat it names."""

    session: AsyncSession
    row: ChatRow
    action: Action
    uid: int
    cid: int
    lang: str
    now: datetime

    @property
    def index(self) -> int | None:
        """The argument after the chat's row id."""
        return self.action.int_arg(1)

    async def audit(self, what: str, detail: str = "") -> None:
        await audit(self.session, self.now, self.uid, self.row, what, detail)


@dataclass
class Redraw:
    """What the tapped message becomes (``text`` None: only its keyboard changes); Done
    may also ask for a test post in the chat (address, thread, language)."""

    text: str | None
    markup: InlineKeyboardMarkup | None = None
    test_post: tuple[str, int, str] | None = None


#: A tap returns the redraw, or the key of the message to answer it with instead.
Tap = Callable[[Tapped], Awaitable[Redraw | str]]


class Channels(Capability[ChannelScreens]):
    """The per-chat screens' taps (callback actions ``c*``)."""

    def taps(self) -> dict[str, Tap]:
        """Every action on a chat's screens and the function that applies it."""
        return {
            "cR": self.region,
            "cL": self.language,
            "cK": self.topics,
            "cT": self.topic,
            "cE": self.edit_editions,
            "cD": self.done,
            "cM": self.card,
            "cP": self.pause,
            "cU": self.pause,
            "cA": self.option,
            "cW": self.option,
            "cN": self.option,
            "cV": self.preview,
            "cX": self.ask_disconnect,
            "cY": self.disconnect,
        }

    def handlers(self) -> list[HANDLER]:
        taps = {name: self.on_tap(name, tap) for name, tap in self.taps().items()}
        return tap_handlers({**taps, "cB": self.back_to_list})

    # ---- the guard around every tap -----------------------------------------------

    async def back_to_list(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """``cB``: the admin's list of chats (private chat only; names no chat)."""
        tapped = await self.g.tap(update, "cB")
        user, chat = update.effective_user, update.effective_chat
        if tapped is None or user is None or chat is None:
            return
        lang = await self.s.language_for(update)
        async with self.s.sessions() as session:
            text, markup = await self.screens.chat_list(session, lang, user.id, chat.id)
        await edit(tapped[0], text, markup)
        await acknowledge(tapped[0])

    def on_tap(self, name: str, tap: Tap) -> Callback:
        """The handler of action ``name``: verify the button, ask Telegram whether the
        user may configure the chat now, apply ``tap`` in one transaction, redraw."""

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            tapped = await self.g.tap(update, name)
            user, chat = update.effective_user, update.effective_chat
            if tapped is None or user is None or chat is None:
                return
            query, action = tapped
            lang = await self.s.language_for(update)
            pk = await self.authorize(update, context.bot, action, user.id)
            if pk is None:
                return
            async with self.s.sessions.begin() as session:
                row = await chat_by_id(session, pk)
                if row is None:
                    return
                now = self.s.clock.now()
                outcome = await tap(Tapped(session, row, action, user.id, chat.id, lang, now))
                title = chat_title(row)
            if isinstance(outcome, str):
                await self.g.answer(update, outcome, alert=True)
                return
            refused = await self.test_post(context.bot, pk, outcome)
            if refused is not None:
                await self.g.answer(update, refused, alert=True, chat=title)
                return
            await edit(query, outcome.text, outcome.markup)
            await acknowledge(query)

        return handle

    async def authorize(self, update: Update, bot: Bot, action: Action, uid: int) -> int | None:
        """The chat's row id when ``uid`` may change it now (and, for Done, the bot may post
        there); else None, after answering why (a refusal is audited)."""
        pk = action.int_arg(0)
        async with self.s.sessions() as session:
            row = await chat_by_id(session, pk)
            if row is None or row.kind == "private" or not row.active:
                await self.g.answer(update, STALE, alert=True)
                return None
            title, chat_id, kind = chat_title(row), chat_id_of(row.address), row.kind
            managed = catalog_managed(row)
        if managed and action.name in CATALOG_ACTIONS:  # an editor shown before it was
            await self.g.answer(update, "channels.catalog_refusal", alert=True, chat=title)
            return None
        refusal = management_refusal(await member(bot, chat_id, uid), kind)
        if refusal is not None:
            async with self.s.sessions.begin() as session:
                found = await chat_by_id(session, pk)
                await audit(session, self.s.clock.now(), uid, found, "refused", action.name)
            await self.g.answer(update, refusal, alert=True, chat=title)
            return None
        if action.name == "cD" and not may_post(await member(bot, chat_id, bot.id), kind):
            await self.g.answer(update, "channels.bot_not_admin", alert=True, chat=title)
            return None
        return pk

    async def test_post(self, bot: Bot, pk: int, redraw: Redraw) -> str | None:
        """Send the test post Done asked for, if it did; None when it went (or may have),
        else the key of the message to answer the tap with.

        The admin waits for it, so it goes on the reply path (the adapter, limiter and
        budget of every reply), and Telegram's answer is read by the one interpretation
        the sender uses (``bot.telegram.publisher.interpret``) and acted on as for a post:
        a migrated group is followed and the post sent there, a chat gone is paused
        (``close_chat``), a 429 longer than a reply may wait is "try again later", and an
        answer that never came is not sent twice.
        """
        if redraw.test_post is None:
            return None
        address, thread, post_lang = redraw.test_post
        text = self.tr.gettext(post_lang, "channels.test_post", outlet=self.catalog.outlet.name)
        for _ in range(2):  # once more at a migrated group's new address
            try:
                await bot.send_message(
                    chat_id_of(address),
                    text,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread or None,
                )
                return None
            except TelegramError as exc:
                log.info("test post to %s failed: %s", address, exc)
                outcome = interpret(exc)
            if not isinstance(outcome, Migrated):
                break
            async with self.s.sessions.begin() as session:
                now = self.s.clock.now()
                await move_chat_address(session, address, outcome.new_address, "supergroup", now)
            address = outcome.new_address
        return await self.test_post_failed(pk, outcome)

    async def test_post_failed(self, pk: int, outcome: Outcome) -> str | None:
        """What a test post's failed answer does to the chat, as it would after a post."""
        match outcome:
            case ChatGone(error=err):
                async with self.s.sessions.begin() as session:
                    await close_chat(session, pk, self.s.clock.now(), err)
                return "channels.bot_not_admin"
            case Retry():
                return "errors.unavailable"
            case Unknown():
                return None
        return "channels.bot_not_admin"

    # ---- taps ----------------------------------------------------------------------

    async def editor(self, t: Tapped, setup: int) -> InlineKeyboardMarkup:
        regions = await chat_region_codes(t.session, t.row.id)
        return self.screens.editor(t.row, regions, t.lang, t.uid, t.cid, setup)

    async def region(self, t: Tapped) -> Redraw | str:
        """``cR.<chat>.<index>.<setup>``: toggle a region (the keyboard alone changes)."""
        if t.index is None or t.index >= len(self.catalog.regions):
            return STALE
        code = self.catalog.regions[t.index].code
        on = await toggle_chat_region(t.session, t.row.id, code)
        await t.audit("region_on" if on else "region_off", code)
        return Redraw(None, await self.editor(t, t.action.int_arg(2) or 0))

    async def language(self, t: Tapped) -> Redraw | str:
        """``cL.<chat>.<index>.<setup>``: the chat's language."""
        if t.index is None or t.index >= len(self.catalog.languages):
            return STALE
        t.row.language = self.catalog.languages[t.index]
        await t.audit("language", t.row.language)
        return Redraw(None, await self.editor(t, t.action.int_arg(2) or 0))

    async def topics(self, t: Tapped) -> Redraw | str:
        """``cK.<chat>``: the topics screen."""
        follows = await chat_follows(t.session, t.row.id)
        return Redraw(*self.screens.topics_screen(t.row, follows, t.lang, t.uid, t.cid))

    async def topic(self, t: Tapped) -> Redraw | str:
        """``cT.<chat>.<index>``: turn one topic on or off."""
        if t.index is None or t.index >= len(self.catalog.topics):
            return STALE
        code = self.catalog.topics[t.index].code
        on = await toggle_chat_topic(t.session, t.row.id, code)
        t.row.updated_at = t.now
        await t.audit("topic_on" if on else "topic_off", code)
        return await self.topics(t)

    async def edit_editions(self, t: Tapped) -> Redraw | str:
        """``cE.<chat>``: the editor, from the card."""
        text = self.tr.gettext(t.lang, "channels.editions_prompt", chat=chat_title(t.row))
        return Redraw(text, await self.editor(t, 0))

    async def done(self, t: Tapped) -> Redraw | str:
        """``cD.<chat>.<setup>``: the card; after connecting (setup 1), a test post too.
        A chat without regions would wait for news forever: refused."""
        if not await chat_region_codes(t.session, t.row.id):
            return "settings.no_regions"
        redraw = Redraw(*await self.screens.card(t.session, t.row, t.lang, t.uid, t.cid))
        if t.index == 1:
            redraw.test_post = (t.row.address, t.row.thread_id, t.row.language)
            await t.audit("test_post")
            sent = self.tr.gettext(t.lang, "channels.test_sent", chat=chat_title(t.row))
            redraw.text = sent + "\n\n" + (redraw.text or "")
        return redraw

    async def card(self, t: Tapped) -> Redraw | str:
        """``cM.<chat>``: the chat's card."""
        return Redraw(*await self.screens.card(t.session, t.row, t.lang, t.uid, t.cid))

    async def pause(self, t: Tapped) -> Redraw | str:
        """``cP``/``cU.<chat>``: pause or resume posting (an admin's pause outlasts the bot
        being removed and re-added)."""
        row = t.row
        row.paused = t.action.name == "cP"
        row.pause_reason = "admin" if row.paused else None
        row.updated_at = t.now
        await t.audit("pause" if row.paused else "resume")
        key = "channels.paused" if row.paused else "channels.resumed"
        note = self.tr.gettext(t.lang, key, chat=chat_title(row))
        details, markup = await self.screens.card(t.session, row, t.lang, t.uid, t.cid)
        return Redraw(note + "\n\n" + details, markup)

    async def option(self, t: Tapped) -> Redraw | str:
        """``cA``/``cW``/``cN.<chat>.<1 or 0>``: appeals hidden, weekly most-read, silent at
        night; the button names the state it sets."""
        if t.index not in (0, 1):
            return STALE
        on, name = t.index == 1, t.action.name
        if name == "cA":
            t.row.hide_appeals = on
            await t.audit("appeals_hidden" if on else "appeals_shown")
        elif name == "cW":
            t.row.weekly_mostread = on
            await t.audit("weekly_on" if on else "weekly_off")
        else:
            t.row.silent_at_night = on
            await t.audit("silent_on" if on else "silent_off")
        t.row.updated_at = t.now
        return await self.card(t)

    async def preview(self, t: Tapped) -> Redraw | str:
        """``cV.<chat>.<index>``: how links preview under posts."""
        if t.index is None or t.index >= len(PREVIEW_CHOICES):
            return STALE
        t.row.link_preview = PREVIEW_CHOICES[t.index]
        t.row.updated_at = t.now
        await t.audit("link_preview", t.row.link_preview)
        return await self.card(t)

    async def ask_disconnect(self, t: Tapped) -> Redraw | str:
        return Redraw(*self.screens.confirm_disconnect(t.row, t.lang, t.uid, t.cid))

    async def disconnect(self, t: Tapped) -> Redraw | str:
        """``cY.<chat>``: stop posting there and forget its editions (what is queued goes)."""
        t.row.active = False
        t.row.updated_at = t.now
        await set_chat_regions(t.session, t.row.id, [])
        await drop_open_deliveries(t.session, t.row.id, t.now, "disconnected")
        await t.audit("disconnect")
        return Redraw(self.tr.gettext(t.lang, "channels.disconnected", chat=chat_title(t.row)))
