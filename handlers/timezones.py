"""Any time zone for a reader: /settings → Time zone → "Another time zone…" lists countries
(names in the reader's language, a page at a time), then the country's zones; or the
reader sends a city or a UTC offset (``bot.zones``).

Button actions start with ``z`` and are signed like every settings button. After the
"Another time zone" tap the bot expects a typed answer from that reader for a while (in
memory, bounded); any other text then still gets the usual hint.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.callbacks import Action
from bot.storage.chats import ensure_private_chat
from bot.storage.models import ChatRow
from bot.zones import countries, country_zones, find_zone, zone_label
from handlers.actions import OPEN_SETTINGS, OTHER_ZONE
from handlers.buttons import (
    HANDLER,
    Callback,
    Capability,
    Guard,
    Rows,
    acknowledge,
    chunk,
    edit,
    tap_handlers,
)
from handlers.reader_screens import ReaderScreens
from handlers.services import Services

PAGE = 20  # countries per page (two columns)
ANSWER_SECONDS = 600.0  # how long a typed city or offset is expected after the tap
MAX_WAITING = 10_000


class AwaitingZone(filters.MessageFilter):
    """Private text from a reader the bot asked for a city or an offset."""

    def __init__(self) -> None:
        super().__init__(name="AwaitingZone")
        self.until: OrderedDict[int, float] = OrderedDict()

    def expect(self, user_id: int) -> None:
        self.until.pop(user_id, None)
        self.until[user_id] = time.monotonic() + ANSWER_SECONDS
        while len(self.until) > MAX_WAITING:
            self.until.popitem(last=False)

    def done(self, user_id: int) -> None:
        self.until.pop(user_id, None)

    def filter(self, message: object) -> bool:
        user = getattr(message, "from_user", None)
        deadline = self.until.get(user.id) if user is not None else None
        return deadline is not None and time.monotonic() < deadline


class TimeZonePicker(Capability[ReaderScreens]):
    def __init__(self, services: Services, guard: Guard, screens: ReaderScreens) -> None:
        super().__init__(services, guard, screens)
        self.awaiting = AwaitingZone()

    def countries_screen(self, lang: str, page: int, uid: int, cid: int) -> tuple[str, Rows]:
        found = countries(lang)
        pages = max(1, -(-len(found) // PAGE))
        page = min(max(page, 0), pages - 1)
        shown = found[page * PAGE : (page + 1) * PAGE]
        rows = chunk([self.g.button(name, uid, cid, "zK", code) for code, name in shown], 2)
        nav = []
        if page > 0:
            nav.append(self.g.button("«", uid, cid, OTHER_ZONE, page - 1))
        if page + 1 < pages:
            nav.append(self.g.button("»", uid, cid, OTHER_ZONE, page + 1))
        rows += [nav] if nav else []
        rows.append(
            [
                self.g.button(
                    self.tr.plain(lang, "settings.back_button"), uid, cid, OPEN_SETTINGS, "z"
                )
            ]
        )
        return self.tr.gettext(lang, "timezone.country_prompt"), rows

    def zones_screen(self, lang: str, code: str, uid: int, cid: int) -> tuple[str, Rows] | None:
        zones = country_zones(code, lang)
        if not zones:
            return None
        buttons = [
            self.g.button(label, uid, cid, "zZ", code, n) for n, (_z, label) in enumerate(zones)
        ]
        page = next((n // PAGE for n, (c, _) in enumerate(countries(lang)) if c == code), 0)
        back = [
            self.g.button(self.tr.plain(lang, "settings.back_button"), uid, cid, OTHER_ZONE, page)
        ]
        return self.tr.gettext(lang, "timezone.zone_prompt"), [*chunk(buttons, 2), back]

    def on_tap(self, name: str) -> Callback:
        """The handler of action ``name`` (``zC`` countries, ``zK`` a country, ``zZ`` a zone)."""

        async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            tap = await self.g.private_tap(update, name)
            if tap is None:
                return
            shown = await self.show(tap.action, tap.lang, tap.user_id, tap.chat_id, tap.title)
            if shown is None:
                await self.g.answer(update, "errors.stale_button", alert=True)
                return
            await edit(tap.query, shown[0], InlineKeyboardMarkup(shown[1]))
            await acknowledge(tap.query)

        return handle

    async def show(
        self, action: Action, lang: str, uid: int, cid: int, title: str
    ) -> tuple[str, list[list[InlineKeyboardButton]]] | None:
        """The screen a tap leads to (storing the zone when one is picked), or None."""
        code = action.args[0] if action.args else ""
        if action.name == OTHER_ZONE:
            self.awaiting.expect(uid)
            return self.countries_screen(lang, action.int_arg(0) or 0, uid, cid)
        zones = country_zones(code, lang) if code.isalnum() else []
        if action.name == "zK" and len(zones) > 1:
            return self.zones_screen(lang, code, uid, cid)
        index = action.int_arg(1) if action.name == "zZ" else 0
        if action.name not in ("zK", "zZ") or index is None or index >= len(zones):
            return None
        return await self.choose(zones[index][0], lang, uid, cid, title)

    async def choose(
        self, zone: str, lang: str, uid: int, cid: int, title: str
    ) -> tuple[str, list[list[InlineKeyboardButton]]]:
        """Store ``zone`` and return the settings menu, headed by what changed."""
        self.awaiting.done(uid)
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row: ChatRow = await ensure_private_chat(session, cid, title, lang, now)
            row.timezone = zone
            row.updated_at = now
            text, markup = await self.screens.screen(session, "m", uid, cid, lang)
        head = self.tr.gettext(lang, "timezone.set", timezone=zone_label(zone))
        rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
        return f"{head}\n\n{text}", rows

    async def on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = await self.g.typed(update)
        if answer is None:
            return
        (message, user, chat), typed = answer
        lang = await self.s.language_for(update)
        zone = find_zone(typed)
        if zone is None:
            await message.reply_text(
                self.tr.gettext(lang, "timezone.unknown"), parse_mode=ParseMode.HTML
            )
            return
        text, rows = await self.choose(zone, lang, user.id, chat.id, chat.full_name or "")
        await message.reply_text(
            text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows)
        )

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        return [
            *tap_handlers({name: self.on_tap(name) for name in (OTHER_ZONE, "zK", "zZ")}),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND & self.awaiting, self.on_text),
        ]
