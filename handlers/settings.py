"""A reader's settings in private chat: /settings, /stop and the taps on the screens.

Every screen is one message whose inline buttons carry signed callback data
(``bot.callbacks``): a tap is applied to the database at once and the message is
edited in place, so the ✅ marks always show what is stored. Region toggles only
swap the keyboard (``editMessageReplyMarkup``); screens that change their text are
edited whole. Buttons are bound to the reader and their chat: someone else's or an
old button is answered with ``errors.stale_button`` and changes nothing.

:meth:`SubscriberSettings.taps` is the dispatch table: one small function per action,
which changes the stored chat and names the screen to show next
(``handlers.reader_screens`` draws it); each is registered as its own handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.callbacks import Action
from bot.localtime import DEFAULT_QUIET
from bot.storage.chats import chat_region_codes, find_chat, toggle_chat_region
from bot.storage.deliveries import drop_open_deliveries
from bot.storage.editions import remove_chat_language
from bot.storage.models import ChatRow
from handlers.actions import OPEN_SETTINGS
from handlers.buttons import HANDLER, Callback, Capability, acknowledge, edit, tap_handlers
from handlers.reader_screens import OPENABLE, ReaderScreens
from handlers.subscriptions import add_region

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: What a tap leads to: the screen to show, and whether only its keyboard changed.
Outcome = tuple[str, bool]
# The session is named as a string: its type is imported for type checking only.
Tap = Callable[["AsyncSession", ChatRow, Action], Awaitable[Outcome | None]]
NO_REGIONS = "no_regions"  # not a screen: Done refused because no region is chosen


class SubscriberSettings(Capability[ReaderScreens]):
    """The reader-facing settings; callback actions start with ``s``."""

    # ---- commands ------------------------------------------------------------------

    async def settings(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        command = await self.g.command(update)
        if command is None:
            return
        message, user, chat = command
        ui_lang = await self.s.language_for(update)
        async with self.s.sessions() as session:
            text, markup = await self.screens.screen(session, "m", user.id, chat.id, ui_lang)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def stop(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Unsubscribe from everything; the settings stay for a later /start."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        lang = await self.s.language_for(update)
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row = await find_chat(session, str(chat.id))
            if row is not None:
                row.active = False
                row.updated_at = now
                await drop_open_deliveries(session, row.id, now, "unsubscribed")
        await message.reply_text(self.tr.gettext(lang, "stop.done"), parse_mode=ParseMode.HTML)

    # ---- taps ----------------------------------------------------------------------

    def on_tap(self, name: str, change: Tap) -> Callback:
        """The handler of action ``name``: verify, store what ``change`` says, redraw."""

        async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            tap = await self.g.private_tap(update, name)
            if tap is None:
                return
            async with self.s.sessions.begin() as session:
                row = await tap.chat_row(session)
                row.active = True
                row.updated_at = tap.now
                outcome = await change(session, row, tap.action)
                if outcome is None:
                    await self.g.answer(update, "errors.stale_button", alert=True)
                    return
                screen, keyboard_only = outcome
                if screen == NO_REGIONS:
                    await self.g.answer(update, "settings.no_regions", alert=True)
                    return
                text, markup = await self.screens.screen(
                    session, screen, tap.user_id, tap.chat_id, tap.lang
                )
            await edit(tap.query, None if keyboard_only else text, markup)
            await acknowledge(tap.query)

        return handle

    def taps(self) -> dict[str, Tap]:
        """Every settings action and the function that applies it."""
        return {
            OPEN_SETTINGS: self.open,
            "sD": self.done,
            "sR": self.region,
            "sL": self.language,
            "sM": self.mode,
            "sN": self.empty_digest,
            "sT": self.digest_time,
            "sQ": self.quiet,
            "sS": self.quiet_start,
            "sE": self.quiet_end,
            "sA": self.appeals,
            "sW": self.weekly,
            "sB": self.breaking,
            "sZ": self.zone,
        }

    async def open(self, _s: AsyncSession, _row: ChatRow, action: Action) -> Outcome | None:
        """``sO.<screen>``: show a screen, change nothing."""
        args = action.args
        return (args[0], False) if args and args[0] in OPENABLE else None

    async def done(self, session: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sD``: the summary. The greeting's Done (``sD.g``) confirms the first choice:
        with no region, nothing would ever come, so it is refused."""
        if action.args[:1] == ("g",) and not await chat_region_codes(session, row.id):
            return NO_REGIONS, True
        return "done", False

    async def region(self, session: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sR.<g or r>.<index>``: toggle a region (the first also sets the time zone)."""
        index = action.int_arg(1)
        if index is None or index >= len(self.catalog.regions):
            return None
        code = self.catalog.regions[index].code
        if code in await chat_region_codes(session, row.id):
            await toggle_chat_region(session, row.id, code)
        else:
            await add_region(session, self.catalog, row, code)
        return ("g" if action.args[0] == "g" else "r"), True

    async def language(self, session: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sL.<s or m>.<index>``: the reader's first language (no longer also another)."""
        index = action.int_arg(1)
        if index is None or index >= len(self.catalog.languages):
            return None
        row.language = self.catalog.languages[index]
        await remove_chat_language(session, row.id, row.language)
        return ("s" if action.args[0] == "s" else "m"), False

    async def mode(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sM.<i or d>``: instant or digest; the first digest comes at the next digest time."""
        if action.args[:1] not in (("i",), ("d",)):
            return None
        row.mode = "instant" if action.args[0] == "i" else "digest"
        if row.mode == "digest":
            row.last_digest_at = self.s.clock.now()
        return ("t" if row.mode == "digest" else "m"), False

    async def empty_digest(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sN.<on or off>``: a digest on a day without news, or none."""
        if action.args[:1] not in (("on",), ("off",)):
            return None
        row.digest_when_empty = action.args[0] == "on"
        return "d", True

    async def digest_time(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        hour = action.int_arg(0)
        if hour is None or hour >= 24:
            return None
        row.digest_minute = hour * 60
        return "m", False

    async def quiet(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sQ.<on or off>``: quiet hours (the default ones when turned on)."""
        if action.args[:1] not in (("on",), ("off",)):
            return None
        row.quiet_start, row.quiet_end = DEFAULT_QUIET if action.args[0] == "on" else (None, None)
        return "q", False

    async def quiet_start(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        hour = action.int_arg(0)
        if hour is None or hour >= 24:
            return None
        row.quiet_start = hour * 60
        row.quiet_end = row.quiet_end if row.quiet_end is not None else DEFAULT_QUIET[1]
        return "e", False

    async def quiet_end(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sE.<start hour>.<end hour>``: both ends at once (the start was the last tap)."""
        start, end = action.int_arg(0), action.int_arg(1)
        if start is None or end is None or max(start, end) >= 24:
            return None
        row.quiet_start, row.quiet_end = start * 60, end * 60
        return "m", False

    async def appeals(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sA.<h or s>``: hide or show donation appeals under posts."""
        if action.args[:1] not in (("h",), ("s",)):
            return None
        row.hide_appeals = action.args[0] == "h"
        return "m", False

    async def weekly(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        if action.args[:1] not in (("on",), ("off",)):
            return None
        row.weekly_mostread = action.args[0] == "on"
        return "m", False

    async def breaking(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        if action.args[:1] not in (("on",), ("off",)):
            return None
        row.breaking_alerts = action.args[0] == "on"
        return "m", False

    async def zone(self, _s: AsyncSession, row: ChatRow, action: Action) -> Outcome | None:
        """``sZ.<index>``: one of the regions' time zones, or UTC."""
        index = action.int_arg(0)
        if index is None or index >= len(self.screens.zones):
            return None
        row.timezone = self.screens.zones[index]
        return "m", False

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        taps = {name: self.on_tap(name, tap) for name, tap in self.taps().items()}
        return [
            CommandHandler("settings", self.settings, filters=private),
            CommandHandler("stop", self.stop, filters=private),
            *tap_handlers(taps),
        ]
