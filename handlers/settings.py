"""A reader's settings in private chat: the /start picker, /settings and /stop.

Every screen is one message whose inline buttons carry signed callback data
(``bot.callbacks``): a tap is applied to the database at once and the message is
edited in place, so the ✅ marks always show what is stored. Region toggles only
swap the keyboard (``editMessageReplyMarkup``); screens that change their text are
edited whole. Buttons are bound to the reader and their chat: someone else's or an
old button is answered with ``errors.stale_button`` and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.callbacks import Action, CallbackSigner, RateLimiter
from bot.i18n import SafeHTML
from bot.localtime import DEFAULT_QUIET
from bot.storage.chats import chat_region_codes, ensure_private_chat, find_chat, toggle_chat_region
from bot.storage.deliveries import drop_open_deliveries
from bot.storage.editions import remove_chat_language
from bot.storage.follows import Follows, chat_follows
from bot.storage.models import ChatRow
from bot.zones import zone_label
from handlers.services import Services
from handlers.subscriptions import add_region, follow_lines

log = logging.getLogger(__name__)

Rows = list[list[InlineKeyboardButton]]
HANDLER = BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]
CHECK = "✅ "
NO_REGIONS = "no_regions"  # not a screen: Done refused because no region is chosen


def chunk(buttons: Sequence[InlineKeyboardButton], size: int) -> Rows:
    return [list(buttons[i : i + size]) for i in range(0, len(buttons), size)]


class Guard:
    """Signs buttons, checks taps and rate-limits configuration actions, for every screen."""

    def __init__(
        self,
        services: Services,
        signer: CallbackSigner | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.s = services
        self.signer = signer or CallbackSigner(services.settings.signing_key())
        self.limiter = limiter or RateLimiter()

    def button(
        self, text: str, user_id: int, chat_id: int, name: str, *args: str | int
    ) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text[:64], callback_data=self.signer.sign(user_id, chat_id, name, *args)
        )

    async def tap(self, update: Update, prefix: str) -> tuple[CallbackQuery, Action] | None:
        """The verified action of a button tap, or None after telling the user why not."""
        query = update.callback_query
        user, chat = update.effective_user, update.effective_chat
        if query is None:
            return None
        action = self.signer.verify(
            query.data, user.id if user else None, chat.id if chat else None
        )
        if action is None or not action.name.startswith(prefix):
            await self.answer(update, "errors.stale_button", alert=True)
            return None
        if user is not None and not self.limiter.allow(user.id):
            await self.answer(update, "errors.rate_limited")
            return None
        return query, action

    async def private_tap(self, update: Update, prefix: str) -> tuple[CallbackQuery, Action] | None:
        """:meth:`tap` for a reader's own screens, which exist only in the private chat."""
        tapped = await self.tap(update, prefix)
        if tapped is None:
            return None
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != "private":
            await self.answer(update, "errors.stale_button", alert=True)
            return None
        return tapped

    async def allow_command(self, update: Update) -> bool:
        """Rate limit for configuration commands; replies itself when refused."""
        user, message = update.effective_user, update.effective_message
        if user is None or self.limiter.allow(user.id):
            return True
        if message is not None:
            lang = await self.s.language_for(update)
            await message.reply_text(self.s.translator.gettext(lang, "errors.rate_limited"))
        return False

    async def answer(self, update: Update, key: str, *, alert: bool = False) -> None:
        query = update.callback_query
        if query is None:
            return
        lang = await self.s.language_for(update)
        try:
            await query.answer(self.s.translator.plain(lang, key)[:200], show_alert=alert)
        except TelegramError as exc:  # an old query id: nothing left to answer
            log.info("could not answer a callback query: %s", exc)

    async def stale(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any tap no handler recognised: say so, change nothing."""
        await self.answer(update, "errors.stale_button", alert=True)


async def edit(query: CallbackQuery, text: str | None, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the tapped message (text and keyboard, or the keyboard alone)."""
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=markup)
        else:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("could not edit a settings message: %s", exc)


class SubscriberSettings:
    """The reader-facing screens; callback actions start with ``s``."""

    def __init__(self, services: Services, guard: Guard) -> None:
        self.s = services
        self.g = guard
        self.tr = services.translator
        self.catalog = services.catalog
        zones = [r.timezone for r in self.catalog.regions]
        self.zones = list(dict.fromkeys([*zones, "UTC"]))

    # ---- screens -------------------------------------------------------------------

    def language_label(self, lang: str) -> str:
        return self.tr.language_name(lang) if lang in self.tr.languages else lang.upper()

    def _language_buttons(self, current: str, back: str, uid: int, cid: int) -> Rows:
        buttons = [
            self.g.button(
                (CHECK if lang == current else "") + self.language_label(lang),
                uid,
                cid,
                "sL",
                back,
                index,
            )
            for index, lang in enumerate(self.catalog.languages)
        ]
        return chunk(buttons, 3)

    def _region_buttons(
        self, selected: Sequence[str], lang: str, back: str, uid: int, cid: int
    ) -> Rows:
        buttons = [
            self.g.button(
                (CHECK if region.code in selected else "")
                + self.catalog.region_name(region.code, lang),
                uid,
                cid,
                "sR",
                back,
                index,
            )
            for index, region in enumerate(self.catalog.regions)
        ]
        return chunk(buttons, 2)

    def also_buttons(self, lang: str, others: Sequence[str], uid: int, cid: int) -> Rows:
        """A toggle per other edition the reader may follow besides their first (``fA``)."""
        buttons = [
            self.g.button(
                (CHECK if code in others else "")
                + self.tr.plain(lang, "follow.also_button", language=self.language_label(code)),
                uid,
                cid,
                "fA",
                index,
            )
            for index, code in enumerate(self.catalog.languages)
            if code != lang
        ]
        return chunk(buttons, 2)

    def start_markup(self, lang: str, uid: int, cid: int) -> InlineKeyboardMarkup:
        """The greeting's keyboard: the language, then the button its text names."""
        rows = self._language_buttons(lang, "s", uid, cid)
        label = self.tr.plain(lang, "start.choose_regions_button")
        rows.append([self.g.button(label, uid, cid, "sO", "g")])
        return InlineKeyboardMarkup(rows)

    def first_regions_markup(
        self, lang: str, selected: Sequence[str], uid: int, cid: int
    ) -> InlineKeyboardMarkup:
        """Region toggles after the greeting, closed with Done (the confirmation)."""
        rows = self._region_buttons(selected, lang, "g", uid, cid)
        done = self.tr.plain(lang, "settings.done_button")
        rows.append([self.g.button(done, uid, cid, "sD", "g")])
        return InlineKeyboardMarkup(rows)

    def greeting(self, lang: str) -> str:
        return self.tr.gettext(lang, "start.greeting", outlet=self.catalog.outlet.name)

    def summary(
        self,
        row: ChatRow | None,
        regions: Sequence[str],
        lang: str,
        follows: Follows | None = None,
    ) -> str:
        tr = self.tr
        names = ", ".join(self.catalog.region_name(code, lang) for code in regions)
        if row is not None and row.mode == "digest":
            delivery = tr.gettext(
                lang, "settings.mode_digest", time=self.clock_time(lang, row.digest_minute)
            )
        else:
            delivery = tr.gettext(lang, "settings.mode_instant")
        if row is not None and row.quiet_start is not None and row.quiet_end is not None:
            quiet = tr.gettext(
                lang,
                "settings.quiet_range",
                start=self.clock_time(lang, row.quiet_start),
                end=self.clock_time(lang, row.quiet_end),
            )
        else:
            quiet = tr.gettext(lang, "settings.quiet_off")
        hidden = row is not None and row.hide_appeals
        text = tr.ngettext(
            lang,
            "settings.summary",
            len(regions),
            regions=names or tr.plain(lang, "settings.regions_none"),
            language=self.language_label(lang),
            delivery=SafeHTML(delivery),
            quiet=SafeHTML(quiet),
            appeals=SafeHTML(
                tr.gettext(lang, "settings.appeals_hidden" if hidden else "settings.appeals_shown")
            ),
        )
        breaking = row is None or row.breaking_alerts
        alerts = tr.gettext(lang, "settings.breaking_on" if breaking else "settings.breaking_off")
        lines = [text, *follow_lines(tr, self.catalog, follows or Follows(), lang)]
        return "\n".join([*lines, self.weekly_line(row, lang), alerts])

    def weekly_line(self, row: ChatRow | None, lang: str) -> str:
        """The weekly most-read choice: it comes on Mondays at the chat's digest time."""
        if row is None or not row.weekly_mostread:
            value = self.tr.gettext(lang, "settings.weekly_off")
        else:
            value = self.tr.gettext(
                lang, "settings.weekly_on", time=self.clock_time(lang, row.digest_minute)
            )
        return self.tr.gettext(lang, "settings.weekly_line", weekly=SafeHTML(value))

    def clock_time(self, lang: str, minute: int) -> str:
        hours, minutes = divmod(minute % 1440, 60)
        return self.tr.format_time(lang, time(hours, minutes))

    def menu(self, lang: str, uid: int, cid: int, row: ChatRow | None) -> InlineKeyboardMarkup:
        def b(key: str, screen: str) -> InlineKeyboardButton:
            return self.g.button(self.tr.plain(lang, key), uid, cid, "sO", screen)

        return InlineKeyboardMarkup(
            [
                [b("settings.regions_button", "r"), b("settings.language_button", "l")],
                [self.g.button(self.tr.plain(lang, "settings.follow_button"), uid, cid, "fO")],
                [b("settings.delivery_button", "d"), b("settings.quiet_button", "q")],
                [b("settings.timezone_button", "z")],
                *([button] for button in self.toggles(lang, uid, cid, row)),
                [self.g.button(self.tr.plain(lang, "settings.done_button"), uid, cid, "sD")],
            ]
        )

    def toggles(
        self, lang: str, uid: int, cid: int, row: ChatRow | None
    ) -> list[InlineKeyboardButton]:
        """Donation appeals (only when the outlet has any), the weekly most-read and
        breaking-news alerts (``sB``: breaking news skips the digest and quiet hours).

        Each button names the state it sets (``sA.h``/``sA.s``, ``sW.on``/``sW.off``), so
        an old button tapped twice changes nothing the second time.
        """
        tr = self.tr
        out = []
        if self.catalog.donate is not None:
            hidden = row is not None and row.hide_appeals
            key = "settings.show_appeals_button" if hidden else "settings.hide_appeals_button"
            out.append(self.g.button(tr.plain(lang, key), uid, cid, "sA", "s" if hidden else "h"))
        weekly = row is not None and row.weekly_mostread
        key = "settings.weekly_off_button" if weekly else "settings.weekly_on_button"
        out.append(self.g.button(tr.plain(lang, key), uid, cid, "sW", "off" if weekly else "on"))
        breaking = row is None or row.breaking_alerts
        key = "settings.breaking_off_button" if breaking else "settings.breaking_on_button"
        out.append(self.g.button(tr.plain(lang, key), uid, cid, "sB", "off" if breaking else "on"))
        return out

    def back(self, lang: str, uid: int, cid: int) -> list[InlineKeyboardButton]:
        return [self.g.button(self.tr.plain(lang, "settings.back_button"), uid, cid, "sO", "m")]

    def hours(
        self, lang: str, current: int | None, name: str, uid: int, cid: int, *prefix: int
    ) -> Rows:
        """24 hour buttons, written as the text around them writes times (Babel: "6:00 AM"
        in English, "06:00" in Russian); fewer per row when the labels are long."""
        labels = [self.clock_time(lang, hour * 60) for hour in range(24)]
        buttons = [
            self.g.button(
                (CHECK if current == hour * 60 else "") + labels[hour],
                uid,
                cid,
                name,
                *prefix,
                hour,
            )
            for hour in range(24)
        ]
        return chunk(buttons, 6 if max(map(len, labels)) <= 5 else 4)

    async def screen(
        self, session: AsyncSession, screen: str, uid: int, cid: int, ui_lang: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """Text and keyboard of one settings screen, from what is stored now.

        Screens: ``s`` greeting with the language choice, ``g`` its region toggles,
        ``m`` menu, ``r`` regions, ``l`` language, ``d`` delivery mode, ``t`` digest
        time, ``q`` quiet hours (and start time), ``e`` quiet hours end, ``z`` time
        zone, ``done`` the closing summary. The menu also carries the donation
        appeals and weekly most-read toggles (``sA``, ``sW``), which redraw it.
        """
        row = await find_chat(session, str(cid))
        lang = (
            row.language if row is not None and row.language in self.catalog.languages else ui_lang
        )
        regions = await chat_region_codes(session, row.id) if row is not None else []
        follows = await chat_follows(session, row.id) if row is not None else Follows()
        tr = self.tr
        back = self.back(lang, uid, cid)
        if screen == "done":
            return self.summary(row, regions, lang, follows), None
        if screen == "s":
            return self.greeting(lang), self.start_markup(lang, uid, cid)
        if screen == "g":
            prompt = tr.gettext(lang, "settings.regions_prompt")
            return prompt, self.first_regions_markup(lang, regions, uid, cid)
        if screen == "r":
            rows = self._region_buttons(regions, lang, "r", uid, cid)
            return tr.gettext(lang, "settings.regions_prompt"), InlineKeyboardMarkup([*rows, back])
        if screen == "l":
            rows = self._language_buttons(lang, "m", uid, cid)
            rows += self.also_buttons(lang, follows.languages, uid, cid)
            text = tr.gettext(lang, "settings.language_prompt")
            text += "\n\n" + tr.gettext(lang, "follow.languages_hint")
            return text, InlineKeyboardMarkup([*rows, back])
        if screen == "d":
            mode = row.mode if row is not None else "instant"
            rows = [
                [
                    self.g.button(
                        (CHECK if mode == "instant" else "")
                        + tr.plain(lang, "settings.mode_instant_button"),
                        uid,
                        cid,
                        "sM",
                        "i",
                    )
                ],
                [
                    self.g.button(
                        (CHECK if mode == "digest" else "")
                        + tr.plain(lang, "settings.mode_digest_button"),
                        uid,
                        cid,
                        "sM",
                        "d",
                    )
                ],
            ]
            if mode == "digest" and row is not None:  # the button names the state it sets
                on = row.digest_when_empty
                label = (CHECK if on else "") + tr.plain(lang, "settings.empty_digest_button")
                rows.append([self.g.button(label, uid, cid, "sN", "off" if on else "on")])
            return tr.gettext(lang, "settings.mode_prompt"), InlineKeyboardMarkup([*rows, back])
        if screen == "t":
            current = row.digest_minute if row is not None else None
            rows = self.hours(lang, current, "sT", uid, cid)
            text = tr.gettext(
                lang,
                "settings.digest_time_prompt",
                timezone=zone_label(row.timezone if row else "UTC"),
            )
            return text, InlineKeyboardMarkup([*rows, back])
        if screen == "q":
            on = row is not None and row.quiet_start is not None
            toggle = self.g.button(
                tr.plain(lang, "settings.quiet_off_button" if on else "settings.quiet_on_button"),
                uid,
                cid,
                "sQ",
                "off" if on else "on",
            )
            text = tr.gettext(lang, "settings.quiet_prompt")
            rows = [[toggle]]
            if on and row is not None:
                text += "\n\n" + tr.gettext(lang, "settings.quiet_start_prompt")
                rows += self.hours(lang, row.quiet_start, "sS", uid, cid)
            return text, InlineKeyboardMarkup([*rows, back])
        if screen == "e":
            start = row.quiet_start if row is not None and row.quiet_start is not None else 0
            rows = self.hours(
                lang, row.quiet_end if row is not None else None, "sE", uid, cid, start // 60
            )
            return tr.gettext(lang, "settings.quiet_end_prompt"), InlineKeyboardMarkup(
                [*rows, back]
            )
        if screen == "z":
            zone_now = row.timezone if row is not None else "UTC"
            buttons = [
                self.g.button((CHECK if zone == zone_now else "") + zone, uid, cid, "sZ", index)
                for index, zone in enumerate(self.zones)
            ]
            if zone_now not in self.zones:  # picked through "Another time zone"
                buttons.insert(0, self.g.button(CHECK + zone_label(zone_now), uid, cid, "sO", "m"))
            other = self.g.button(tr.plain(lang, "timezone.other_button"), uid, cid, "zC", 0)
            text = tr.gettext(lang, "settings.timezone_prompt", timezone=zone_label(zone_now))
            return text, InlineKeyboardMarkup([*chunk(buttons, 2), [other], back])
        text = (
            tr.gettext(lang, "settings.title") + "\n\n" + self.summary(row, regions, lang, follows)
        )
        return text, self.menu(lang, uid, cid, row)

    # ---- commands ------------------------------------------------------------------

    async def show_start(self, update: Update) -> None:
        """/start without a payload: the greeting with the language and region picker."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        ui_lang = await self.s.language_for(update)
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row = await find_chat(session, str(chat.id))
            if row is not None and not row.active:
                row.active = True
                row.updated_at = now
                await message.reply_text(
                    self.tr.gettext(ui_lang, "start.welcome_back"), parse_mode=ParseMode.HTML
                )
            text, markup = await self.screen(session, "s", user.id, chat.id, ui_lang)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def settings(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if not await self.g.allow_command(update):
            return
        ui_lang = await self.s.language_for(update)
        async with self.s.sessions() as session:
            text, markup = await self.screen(session, "m", user.id, chat.id, ui_lang)
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

    # ---- buttons -------------------------------------------------------------------

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        tapped = await self.g.private_tap(update, "s")
        user, chat = update.effective_user, update.effective_chat
        if tapped is None or user is None or chat is None:
            return
        query, action = tapped
        ui_lang = await self.s.language_for(update)
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row = await ensure_private_chat(session, chat.id, chat.full_name or "", ui_lang, now)
            row.active = True
            row.updated_at = now
            outcome = await self.apply(session, row, action)
            if outcome is None:
                await self.g.answer(update, "errors.stale_button", alert=True)
                return
            screen, keyboard_only = outcome
            if screen == NO_REGIONS:
                await self.g.answer(update, "settings.no_regions", alert=True)
                return
            text, markup = await self.screen(session, screen, user.id, chat.id, ui_lang)
        await edit(query, None if keyboard_only else text, markup)
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("could not answer a callback query: %s", exc)

    async def apply(
        self, session: AsyncSession, row: ChatRow, action: Action
    ) -> tuple[str, bool] | None:
        """Store what a tap asks for; returns (screen to show, keyboard-only edit)."""
        name, args = action.name, action.args
        first = action.int_arg(0)
        second = action.int_arg(1)
        if name == "sO" and args and args[0] in "gmrldtqez" and len(args[0]) == 1:
            return args[0], False
        if name == "sD":
            # The greeting's Done confirms the first choice: with none, nothing would come.
            if args[:1] == ("g",) and not await chat_region_codes(session, row.id):
                return NO_REGIONS, True
            return "done", False
        if name == "sR" and second is not None and second < len(self.catalog.regions):
            code = self.catalog.regions[second].code
            if code in await chat_region_codes(session, row.id):
                await toggle_chat_region(session, row.id, code)
            else:
                await add_region(session, self.catalog, row, code)
            return ("g" if args[0] == "g" else "r"), True
        if name == "sL" and second is not None and second < len(self.catalog.languages):
            row.language = self.catalog.languages[second]
            await remove_chat_language(session, row.id, row.language)  # first now, not also
            return ("s" if args[0] == "s" else "m"), False
        if name == "sM" and args and args[0] in ("i", "d"):
            row.mode = "instant" if args[0] == "i" else "digest"
            if row.mode == "digest":  # the first digest comes at the next digest time
                row.last_digest_at = self.s.clock.now()
            return ("t" if row.mode == "digest" else "m"), False
        if name == "sN" and args and args[0] in ("on", "off"):
            row.digest_when_empty = args[0] == "on"
            return "d", True
        if name == "sT" and first is not None and first < 24:
            row.digest_minute = first * 60
            return "m", False
        if name == "sQ" and args and args[0] in ("on", "off"):
            row.quiet_start, row.quiet_end = DEFAULT_QUIET if args[0] == "on" else (None, None)
            return "q", False
        if name == "sS" and first is not None and first < 24:
            row.quiet_start = first * 60
            row.quiet_end = row.quiet_end if row.quiet_end is not None else DEFAULT_QUIET[1]
            return "e", False
        if name == "sE" and first is not None and second is not None and max(first, second) < 24:
            row.quiet_start, row.quiet_end = first * 60, second * 60
            return "m", False
        if name == "sA" and args and args[0] in ("h", "s"):
            row.hide_appeals = args[0] == "h"
            return "m", False
        if name == "sW" and args and args[0] in ("on", "off"):
            row.weekly_mostread = args[0] == "on"
            return "m", False
        if name == "sB" and args and args[0] in ("on", "off"):
            row.breaking_alerts = args[0] == "on"
            return "m", False
        if name == "sZ" and first is not None and first < len(self.zones):
            row.timezone = self.zones[first]
            return "m", False
        return None

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("settings", self.settings, filters=private),
            CommandHandler("stop", self.stop, filters=private),
            CallbackQueryHandler(self.on_button, pattern=r"^s[A-Z]"),
        ]
