"""A reader's settings screens, as pure functions of what is stored: text and keyboard.

Shared by the capabilities that end on one of them: ``/settings`` and its taps, ``/start``
(the greeting), the topics and keywords screen (the language screen after a toggle) and
the time-zone picker (the menu after a choice). :meth:`ReaderScreens.load` reads the
chat once; :meth:`ReaderScreens.render` builds any screen from that, without Telegram.

Screens: ``s`` greeting with the language choice, ``g`` its region toggles, ``m`` menu,
``r`` regions, ``l`` language, ``d`` delivery mode, ``t`` digest time, ``q`` quiet hours
(and start time), ``e`` quiet hours end, ``z`` time zone, ``done`` the closing summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.i18n import SafeHTML, Translator
from bot.storage.chats import chat_region_codes, find_chat
from bot.storage.follows import Follows, chat_follows
from bot.storage.models import ChatRow
from bot.zones import zone_label
from handlers.actions import ALSO_LANGUAGE, OPEN_FOLLOWS, OPEN_SETTINGS, OTHER_ZONE
from handlers.buttons import CHECK, Buttons, Rows, chunk
from handlers.subscriptions import follow_lines, language_label

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Screen = tuple[str, InlineKeyboardMarkup | None]
OPENABLE = frozenset("gmrldtqez")  # what ``sO.<screen>`` may open


@dataclass(frozen=True)
class ReaderView:
    """What a settings screen shows: the reader's chat (None before the first contact),
    the language the screens speak, regions and follows; and who the buttons are for."""

    row: ChatRow | None
    lang: str
    uid: int
    cid: int
    regions: Sequence[str] = ()
    follows: Follows = field(default_factory=Follows)


class ReaderScreens:
    """Builds the reader's settings screens (buttons ``s*``, plus the doors to ``f*``/``z*``)."""

    def __init__(self, translator: Translator, catalog: Catalog, buttons: Buttons) -> None:
        self.tr = translator
        self.catalog = catalog
        self.b = buttons
        zones = [r.timezone for r in catalog.regions]
        self.zones = list(dict.fromkeys([*zones, "UTC"]))
        self._screens: dict[str, Callable[[ReaderView], Screen]] = {
            "done": lambda v: (self.summary(v), None),
            "s": lambda v: (self.greeting(v.lang), self.start_markup(v.lang, v.uid, v.cid)),
            "g": self.first_regions,
            "r": self.regions,
            "l": self.languages,
            "d": self.delivery,
            "t": self.digest_time,
            "q": self.quiet,
            "e": self.quiet_end,
            "z": self.timezone,
            "m": self.main,
        }

    async def load(self, session: AsyncSession, uid: int, cid: int, ui_lang: str) -> ReaderView:
        """The reader's chat as stored now (screens speak its language, else ``ui_lang``)."""
        row = await find_chat(session, str(cid))
        if row is None:
            return ReaderView(None, ui_lang, uid, cid)
        lang = row.language if row.language in self.catalog.languages else ui_lang
        regions = await chat_region_codes(session, row.id)
        return ReaderView(row, lang, uid, cid, regions, await chat_follows(session, row.id))

    async def screen(
        self, session: AsyncSession, screen: str, uid: int, cid: int, ui_lang: str
    ) -> Screen:
        """Text and keyboard of one settings screen, from what is stored now."""
        return self.render(screen, await self.load(session, uid, cid, ui_lang))

    def render(self, screen: str, view: ReaderView) -> Screen:
        """Text and keyboard of ``screen`` (the menu for any name it does not know)."""
        return self._screens.get(screen, self.main)(view)

    # ---- parts ---------------------------------------------------------------------

    def button(
        self, view: ReaderView, key: str, name: str, *args: str | int
    ) -> InlineKeyboardButton:
        return self.b.button(self.tr.plain(view.lang, key), view.uid, view.cid, name, *args)

    def back(self, view: ReaderView) -> list[InlineKeyboardButton]:
        return [self.button(view, "settings.back_button", OPEN_SETTINGS, "m")]

    def clock_time(self, lang: str, minute: int) -> str:
        hours, minutes = divmod(minute % 1440, 60)
        return self.tr.format_time(lang, time(hours, minutes))

    def language_buttons(self, current: str, back: str, uid: int, cid: int) -> Rows:
        buttons = [
            self.b.button(
                (CHECK if lang == current else "") + language_label(self.tr, lang),
                uid,
                cid,
                "sL",
                back,
                index,
            )
            for index, lang in enumerate(self.catalog.languages)
        ]
        return chunk(buttons, 3)

    def region_buttons(self, view: ReaderView, back: str) -> Rows:
        buttons = [
            self.b.button(
                (CHECK if region.code in view.regions else "")
                + self.catalog.region_name(region.code, view.lang),
                view.uid,
                view.cid,
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
            self.b.button(
                (CHECK if code in others else "")
                + self.tr.plain(lang, "follow.also_button", language=language_label(self.tr, code)),
                uid,
                cid,
                ALSO_LANGUAGE,
                index,
            )
            for index, code in enumerate(self.catalog.languages)
            if code != lang
        ]
        return chunk(buttons, 2)

    def hours(
        self, lang: str, current: int | None, name: str, uid: int, cid: int, *prefix: int
    ) -> Rows:
        """24 hour buttons, written as the text around them writes times (Babel: "6:00 AM"
        in English, "06:00" in Russian); fewer per row when the labels are long."""
        labels = [self.clock_time(lang, hour * 60) for hour in range(24)]
        buttons = [
            self.b.button(
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

    def toggles(self, view: ReaderView) -> list[InlineKeyboardButton]:
        """Donation appeals (only when the outlet has any), the weekly most-read and
        breaking-news alerts (``sB``: breaking news skips the digest and quiet hours).

        Each button names the state it sets (``sA.h``/``sA.s``, ``sW.on``/``sW.off``), so
        an old button tapped twice changes nothing the second time.
        """
        row = view.row
        out = []
        if self.catalog.donate is not None:
            hidden = row is not None and row.hide_appeals
            key = "settings.show_appeals_button" if hidden else "settings.hide_appeals_button"
            out.append(self.button(view, key, "sA", "s" if hidden else "h"))
        weekly = row is not None and row.weekly_mostread
        key = "settings.weekly_off_button" if weekly else "settings.weekly_on_button"
        out.append(self.button(view, key, "sW", "off" if weekly else "on"))
        breaking = row is None or row.breaking_alerts
        key = "settings.breaking_off_button" if breaking else "settings.breaking_on_button"
        out.append(self.button(view, key, "sB", "off" if breaking else "on"))
        return out

    # ---- texts ---------------------------------------------------------------------

    def greeting(self, lang: str) -> str:
        return self.tr.gettext(lang, "start.greeting", outlet=self.catalog.outlet.name)

    def summary(self, view: ReaderView) -> str:
        """What the reader gets, one line per choice (the closing ``done`` screen)."""
        tr, row, lang = self.tr, view.row, view.lang
        names = ", ".join(self.catalog.region_name(code, lang) for code in view.regions)
        text = tr.ngettext(
            lang,
            "settings.summary",
            len(view.regions),
            regions=names or tr.plain(lang, "settings.regions_none"),
            language=language_label(tr, lang),
            delivery=SafeHTML(self.delivery_line(row, lang)),
            quiet=SafeHTML(self.quiet_line(row, lang)),
            appeals=SafeHTML(
                tr.gettext(
                    lang,
                    "settings.appeals_hidden"
                    if row is not None and row.hide_appeals
                    else "settings.appeals_shown",
                )
            ),
        )
        breaking = row is None or row.breaking_alerts
        alerts = tr.gettext(lang, "settings.breaking_on" if breaking else "settings.breaking_off")
        lines = [text, *follow_lines(tr, self.catalog, view.follows, lang)]
        return "\n".join([*lines, self.weekly_line(row, lang), alerts])

    def delivery_line(self, row: ChatRow | None, lang: str) -> str:
        if row is not None and row.mode == "digest":
            at = self.clock_time(lang, row.digest_minute)
            return self.tr.gettext(lang, "settings.mode_digest", time=at)
        return self.tr.gettext(lang, "settings.mode_instant")

    def quiet_line(self, row: ChatRow | None, lang: str) -> str:
        if row is None or row.quiet_start is None or row.quiet_end is None:
            return self.tr.gettext(lang, "settings.quiet_off")
        return self.tr.gettext(
            lang,
            "settings.quiet_range",
            start=self.clock_time(lang, row.quiet_start),
            end=self.clock_time(lang, row.quiet_end),
        )

    def weekly_line(self, row: ChatRow | None, lang: str) -> str:
        """The weekly most-read choice: it comes on Mondays at the chat's digest time."""
        if row is None or not row.weekly_mostread:
            value = self.tr.gettext(lang, "settings.weekly_off")
        else:
            value = self.tr.gettext(
                lang, "settings.weekly_on", time=self.clock_time(lang, row.digest_minute)
            )
        return self.tr.gettext(lang, "settings.weekly_line", weekly=SafeHTML(value))

    # ---- screens -------------------------------------------------------------------

    def start_markup(self, lang: str, uid: int, cid: int) -> InlineKeyboardMarkup:
        """The greeting's keyboard: the language, then the button its text names."""
        rows = self.language_buttons(lang, "s", uid, cid)
        label = self.tr.plain(lang, "start.choose_regions_button")
        rows.append([self.b.button(label, uid, cid, OPEN_SETTINGS, "g")])
        return InlineKeyboardMarkup(rows)

    def first_regions(self, view: ReaderView) -> Screen:
        """Region toggles after the greeting, closed with Done (the confirmation)."""
        rows = self.region_buttons(view, "g")
        rows.append([self.button(view, "settings.done_button", "sD", "g")])
        return self.tr.gettext(view.lang, "settings.regions_prompt"), InlineKeyboardMarkup(rows)

    def main(self, view: ReaderView) -> Screen:
        """The menu, headed by the summary."""
        text = self.tr.gettext(view.lang, "settings.title") + "\n\n" + self.summary(view)
        b = self.button
        keyboard = [
            [
                b(view, "settings.regions_button", OPEN_SETTINGS, "r"),
                b(view, "settings.language_button", OPEN_SETTINGS, "l"),
            ],
            [b(view, "settings.follow_button", OPEN_FOLLOWS)],
            [
                b(view, "settings.delivery_button", OPEN_SETTINGS, "d"),
                b(view, "settings.quiet_button", OPEN_SETTINGS, "q"),
            ],
            [b(view, "settings.timezone_button", OPEN_SETTINGS, "z")],
            *([button] for button in self.toggles(view)),
            [b(view, "settings.done_button", "sD")],
        ]
        return text, InlineKeyboardMarkup(keyboard)

    def regions(self, view: ReaderView) -> Screen:
        rows = [*self.region_buttons(view, "r"), self.back(view)]
        return self.tr.gettext(view.lang, "settings.regions_prompt"), InlineKeyboardMarkup(rows)

    def languages(self, view: ReaderView) -> Screen:
        """The first language, and the other editions the reader follows too."""
        lang, tr = view.lang, self.tr
        rows = self.language_buttons(lang, "m", view.uid, view.cid)
        rows += self.also_buttons(lang, view.follows.languages, view.uid, view.cid)
        text = tr.gettext(lang, "settings.language_prompt")
        text += "\n\n" + tr.gettext(lang, "follow.languages_hint")
        return text, InlineKeyboardMarkup([*rows, self.back(view)])

    def delivery(self, view: ReaderView) -> Screen:
        """Instant or digest; a digest reader also chooses whether an empty day sends one."""
        row, lang = view.row, view.lang
        mode = row.mode if row is not None else "instant"
        rows = []
        for code, value, key in (("i", "instant", "instant"), ("d", "digest", "digest")):
            label = (CHECK if mode == value else "") + self.tr.plain(
                lang, f"settings.mode_{key}_button"
            )
            rows.append([self.b.button(label, view.uid, view.cid, "sM", code)])
        if mode == "digest" and row is not None:  # the button names the state it sets
            on = row.digest_when_empty
            label = (CHECK if on else "") + self.tr.plain(lang, "settings.empty_digest_button")
            rows.append([self.b.button(label, view.uid, view.cid, "sN", "off" if on else "on")])
        rows.append(self.back(view))
        return self.tr.gettext(lang, "settings.mode_prompt"), InlineKeyboardMarkup(rows)

    def digest_time(self, view: ReaderView) -> Screen:
        row = view.row
        current = row.digest_minute if row is not None else None
        rows = self.hours(view.lang, current, "sT", view.uid, view.cid)
        zone = zone_label(row.timezone if row else "UTC")
        text = self.tr.gettext(view.lang, "settings.digest_time_prompt", timezone=zone)
        return text, InlineKeyboardMarkup([*rows, self.back(view)])

    def quiet(self, view: ReaderView) -> Screen:
        """Quiet hours on or off; when on, their start hour."""
        row, lang = view.row, view.lang
        on = row is not None and row.quiet_start is not None
        key = "settings.quiet_off_button" if on else "settings.quiet_on_button"
        rows: Rows = [[self.button(view, key, "sQ", "off" if on else "on")]]
        text = self.tr.gettext(lang, "settings.quiet_prompt")
        if on and row is not None:
            text += "\n\n" + self.tr.gettext(lang, "settings.quiet_start_prompt")
            rows += self.hours(lang, row.quiet_start, "sS", view.uid, view.cid)
        return text, InlineKeyboardMarkup([*rows, self.back(view)])

    def quiet_end(self, view: ReaderView) -> Screen:
        row = view.row
        start = row.quiet_start if row is not None and row.quiet_start is not None else 0
        end = row.quiet_end if row is not None else None
        rows = self.hours(view.lang, end, "sE", view.uid, view.cid, start // 60)
        text = self.tr.gettext(view.lang, "settings.quiet_end_prompt")
        return text, InlineKeyboardMarkup([*rows, self.back(view)])

    def timezone(self, view: ReaderView) -> Screen:
        """The regions' time zones and UTC, and the door to any other."""
        zone_now = view.row.timezone if view.row is not None else "UTC"
        uid, cid = view.uid, view.cid
        buttons = [
            self.b.button((CHECK if zone == zone_now else "") + zone, uid, cid, "sZ", index)
            for index, zone in enumerate(self.zones)
        ]
        if zone_now not in self.zones:  # picked through "Another time zone"
            label = CHECK + zone_label(zone_now)
            buttons.insert(0, self.b.button(label, uid, cid, OPEN_SETTINGS, "m"))
        other = self.button(view, "timezone.other_button", OTHER_ZONE, 0)
        text = self.tr.gettext(view.lang, "settings.timezone_prompt", timezone=zone_label(zone_now))
        return text, InlineKeyboardMarkup([*chunk(buttons, 2), [other], self.back(view)])
