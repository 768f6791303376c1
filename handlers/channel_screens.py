"""A connected channel's or group's screens, as pure functions of what is stored.

Shared by connecting a chat (``handlers.channel_connect``, which ends on the editor) and
configuring it (``handlers.channels``, whose taps redraw these). Buttons carry the chat's
row id, so a screen is bound to one chat as well as to the admin it was shown to; the
``c*`` actions are listed in ``handlers.channels``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import TYPE_CHECKING

from telegram import (
    ChatAdministratorRights,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestChat,
    ReplyKeyboardMarkup,
)

from bot.catalog import Catalog
from bot.i18n import SafeHTML, Translator
from bot.outbox.clean import escape
from bot.outbox.postform import PREVIEW_CHOICES
from bot.storage.chats import chat_region_codes, managed_chats
from bot.storage.follows import Follows, chat_follows
from bot.storage.models import ChatRow
from handlers.buttons import CHECK, Buttons, chunk, topic_buttons
from handlers.chatnames import chat_title
from handlers.subscriptions import follow_lines, language_label

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Screen = tuple[str, InlineKeyboardMarkup]
CHANNEL_REQUEST = 1
GROUP_REQUEST = 2


def picker_rights(right: str) -> ChatAdministratorRights:
    """The admin rights Telegram's chat picker asks for: ``right`` and nothing else."""
    return ChatAdministratorRights(**{**ChatAdministratorRights.no_rights().to_dict(), right: True})


#: What the catalog's ``[[channels]]`` set and rewrite at every start (editions, language,
#: night silence, link previews; presence too, so no disconnect): read-only on the card
#: of a catalog chat, or an admin's change would last until the next restart. Pause,
#: topics, appeals and the weekly post are not in the catalog and stay the admins'.
CATALOG_ACTIONS = frozenset({"cE", "cR", "cL", "cN", "cV", "cX", "cY"})


def catalog_managed(row: ChatRow) -> bool:
    """Whether the catalog file manages this chat (an active ``[[channels]]`` entry)."""
    return row.origin == "catalog" and row.active


# Channels are configured by admins who may post there, groups by admins who may change
# the group's info (and by their creators); the picker offers only such chats.
POST_RIGHTS = picker_rights("can_post_messages")
INFO_RIGHTS = picker_rights("can_change_info")


class ChannelScreens:
    """The chat picker, the list of an admin's chats, a chat's card, editor and topics."""

    def __init__(self, translator: Translator, catalog: Catalog, buttons: Buttons) -> None:
        self.tr = translator
        self.catalog = catalog
        self.b = buttons

    def picker(self, lang: str) -> ReplyKeyboardMarkup:
        """Telegram's own chat picker: a channel, or a group the bot is in."""
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
        label, group_label = (
            self.tr.plain(lang, "channels.connect_button"),
            self.tr.plain(lang, "channels.connect_group_button"),
        )
        return ReplyKeyboardMarkup(
            [
                [KeyboardButton(label, request_chat=channel)],
                [KeyboardButton(group_label, request_chat=group)],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )

    def edition_name(self, region: str, edition_lang: str, lang: str) -> str:
        """A region and a language ("Georgia · English"), named in ``lang``."""
        language = language_label(self.tr, edition_lang)
        return f"{self.catalog.region_name(region, lang)} · {language}"

    def editor(
        self, row: ChatRow, regions: Sequence[str], lang: str, uid: int, cid: int, setup: int
    ) -> InlineKeyboardMarkup:
        """Region toggles and language choice for one chat, then Done."""
        languages = [
            self.b.button(
                (CHECK if code == row.language else "") + language_label(self.tr, code),
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
            self.b.button(
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
        done = self.b.button(
            self.tr.plain(lang, "settings.done_button"), uid, cid, "cD", row.id, setup
        )
        return InlineKeyboardMarkup([*chunk(languages, 3), *chunk(toggles, 2), [done]])

    async def card(
        self, session: AsyncSession, row: ChatRow, lang: str, uid: int, cid: int
    ) -> Screen:
        """The chat's card from what is stored now: regions, topics and options."""
        regions = await chat_region_codes(session, row.id)
        return self.details(row, regions, lang, uid, cid, await chat_follows(session, row.id))

    def details(
        self,
        row: ChatRow,
        regions: Sequence[str],
        lang: str,
        uid: int,
        cid: int,
        follows: Follows | None = None,
    ) -> Screen:
        """The chat's card: what it gets, and a button per thing an admin may change."""
        tr = self.tr
        names = ", ".join(self.catalog.region_name(code, lang) for code in regions)
        text = tr.gettext(
            lang,
            "channels.details",
            chat=chat_title(row),
            regions=names or tr.plain(lang, "settings.regions_none"),
            language=language_label(tr, row.language),
            status=tr.plain(
                lang, "channels.status_paused" if row.paused else "channels.status_active"
            ),
        )
        text += "".join("\n" + line for line in self.extras(row, lang, follows))
        if catalog_managed(row):
            text += "\n\n" + tr.gettext(lang, "channels.catalog_note")
        rows = self.card_buttons(row, lang, uid, cid)
        if cid > 0:  # the list of chats only exists in private chat
            rows.append([self.b.button(tr.plain(lang, "settings.back_button"), uid, cid, "cB")])
        return text, InlineKeyboardMarkup(rows)

    def card_buttons(
        self, row: ChatRow, lang: str, uid: int, cid: int
    ) -> list[list[InlineKeyboardButton]]:
        """Edit, topics, pause, disconnect, then the options (a catalog chat's card leaves
        out what the catalog sets). The option buttons name the state they set (1 on,
        0 off): an old one tapped twice is a no-op."""

        def b(key: str, name: str, *args: int) -> InlineKeyboardButton:
            return self.b.button(self.tr.plain(lang, key), uid, cid, name, row.id, *args)

        managed = catalog_managed(row)
        pause = (
            b("channels.resume_button", "cU") if row.paused else b("channels.pause_button", "cP")
        )
        rows = [] if managed else [[b("channels.edit_button", "cE")]]
        if self.catalog.topics:
            rows.append([b("channels.topics_button", "cK")])
        rows.append([pause] if managed else [pause, b("channels.disconnect_button", "cX")])
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
        return rows

    def preview_buttons(
        self, row: ChatRow, lang: str, uid: int, cid: int
    ) -> list[InlineKeyboardButton]:
        """One button per link-preview choice, the current one checked."""
        return [
            self.b.button(
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

    async def chat_list(
        self, session: AsyncSession, lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The chats this admin connected, from what is stored now."""
        chats = [
            (row, await chat_region_codes(session, row.id))
            for row in await managed_chats(session, uid)
        ]
        return self.chat_list_screen(chats, lang, uid, cid)

    def chat_list_screen(
        self, chats: Sequence[tuple[ChatRow, Sequence[str]]], lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """One line per chat with its edition, and a button that opens its card."""
        tr = self.tr
        if not chats:
            return tr.gettext(lang, "channels.list_empty"), None
        lines = [tr.gettext(lang, "channels.list_heading")]
        buttons = []
        for row, regions in chats:
            key = "channels.item_paused" if row.paused else "channels.item_active"
            names = ", ".join(self.catalog.region_name(code, lang) for code in regions)
            edition = escape(f"{names or '—'} · {language_label(self.tr, row.language)}")
            lines.append(tr.gettext(lang, key, chat=chat_title(row)) + f"\n    {edition}")
            buttons.append([self.b.button(chat_title(row), uid, cid, "cM", row.id)])
        return "\n".join(lines), InlineKeyboardMarkup(buttons)

    def topics_screen(
        self, row: ChatRow, follows: Follows, lang: str, uid: int, cid: int
    ) -> Screen:
        """Topic toggles for one chat, then back to its card."""
        text = self.tr.gettext(lang, "channels.topics_prompt", chat=chat_title(row))
        rows = topic_buttons(self.b, self.catalog, follows.topics, lang, uid, cid, "cT", row.id)
        back = self.b.button(self.tr.plain(lang, "settings.back_button"), uid, cid, "cM", row.id)
        return text, InlineKeyboardMarkup([*rows, [back]])

    def confirm_disconnect(self, row: ChatRow, lang: str, uid: int, cid: int) -> Screen:
        """Disconnecting asks once more: yes (``cY``) or back to the card (``cM``)."""
        text = self.tr.gettext(lang, "channels.confirm_disconnect", chat=chat_title(row))
        yes = self.tr.plain(lang, "channels.confirm_disconnect_button")
        no = self.tr.plain(lang, "channels.cancel_button")
        buttons = [
            self.b.button(yes, uid, cid, "cY", row.id),
            self.b.button(no, uid, cid, "cM", row.id),
        ]
        return text, InlineKeyboardMarkup([buttons])
