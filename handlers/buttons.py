"""The button toolkit every screen shares: signed buttons, verified taps, in-place edits,
and the helper that turns a table of actions into one handler each.

Callback data is signed and bound to the user and chat it was shown to
(``bot.callbacks``). A tap is routed by its action name alone (``^sO[.~]``: the name,
then its arguments or the signature), so registration *is* the dispatch table: an
action that no row names reaches the fallback, which answers "this button has expired"
and changes nothing, like a forged or foreign one that a row does name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.callbacks import Action, CallbackSigner, RateLimiter
from bot.catalog import Catalog
from bot.storage.chats import ensure_private_chat
from bot.storage.models import ChatRow
from handlers.services import Services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

HANDLER = BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]
Rows = list[list[InlineKeyboardButton]]
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
CHECK = "✅ "


def chunk(buttons: Sequence[InlineKeyboardButton], size: int) -> Rows:
    """Buttons in rows of ``size``."""
    return [list(buttons[i : i + size]) for i in range(0, len(buttons), size)]


def action_pattern(name: str) -> str:
    """The callback data of action ``name`` exactly: the name, then ``.`` or ``~``."""
    return rf"^{re.escape(name)}[.~]"


def tap_handlers(table: Mapping[str, Callback]) -> list[HANDLER]:
    """One ``CallbackQueryHandler`` per row of ``action name -> callback``."""
    return [
        CallbackQueryHandler(callback, pattern=action_pattern(name))
        for name, callback in table.items()
    ]


class Buttons:
    """Makes buttons whose callback data is signed for one user in one chat: all a pure
    screen needs (tests build one with any key)."""

    def __init__(self, signer: CallbackSigner) -> None:
        self.signer = signer

    def button(
        self, text: str, user_id: int, chat_id: int, name: str, *args: str | int
    ) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text[:64], callback_data=self.signer.sign(user_id, chat_id, name, *args)
        )


def topic_buttons(
    buttons: Buttons,
    catalog: Catalog,
    chosen: Sequence[str],
    lang: str,
    uid: int,
    cid: int,
    name: str,
    *lead: int,
) -> Rows:
    """A toggle per catalog topic (``name`` with ``lead`` arguments, then its index): the
    reader's topics screen and a channel's share it."""
    toggles = [
        buttons.button(
            (CHECK if topic.code in chosen else "") + catalog.text(topic.name, lang),
            uid,
            cid,
            name,
            *lead,
            index,
        )
        for index, topic in enumerate(catalog.topics)
    ]
    return chunk(toggles, 2)


class Guard(Buttons):
    """Signs buttons, checks taps and rate-limits configuration actions, for every screen."""

    def __init__(
        self,
        services: Services,
        signer: CallbackSigner | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(signer or CallbackSigner(services.settings.signing_key()))
        self.s = services
        self.limiter = limiter or RateLimiter()

    async def tap(self, update: Update, name: str) -> tuple[CallbackQuery, Action] | None:
        """The verified action ``name`` of a button tap, or None after telling the user why
        not (forged, foreign, expired, another action's data, or too fast)."""
        query = update.callback_query
        user, chat = update.effective_user, update.effective_chat
        if query is None:
            return None
        action = self.signer.verify(
            query.data, user.id if user else None, chat.id if chat else None
        )
        if action is None or action.name != name:
            await self.answer(update, "errors.stale_button", alert=True)
            return None
        if user is not None and not self.limiter.allow(user.id):
            await self.answer(update, "errors.rate_limited")
            return None
        return query, action

    async def private_tap(self, update: Update, name: str) -> ReaderTap | None:
        """:meth:`tap` for a reader's own screens, which exist only in the private chat."""
        tapped = await self.tap(update, name)
        if tapped is None:
            return None
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != "private":
            await self.answer(update, "errors.stale_button", alert=True)
            return None
        lang = await self.s.language_for(update)
        title = chat.full_name or ""
        return ReaderTap(*tapped, user.id, chat.id, title, lang, self.s.clock.now())

    async def command(self, update: Update) -> Command | None:
        """The message, user and chat of a configuration command, or None when one is
        missing or the user is over the rate limit (then told so)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return None
        if not await self.allow_command(update):
            return None
        return Command(message, user, chat)

    async def typed(self, update: Update) -> tuple[Command, str] | None:
        """:meth:`command` for a typed answer (keywords, a city): with its text, or None
        when it has none."""
        command = await self.command(update)
        if command is None or not command.message.text:
            return None
        return command, command.message.text

    async def allow_command(self, update: Update) -> bool:
        """Rate limit for configuration commands; replies itself when refused."""
        user, message = update.effective_user, update.effective_message
        if user is None or self.limiter.allow(user.id):
            return True
        if message is not None:
            lang = await self.s.language_for(update)
            await message.reply_text(self.s.translator.gettext(lang, "errors.rate_limited"))
        return False

    async def answer(self, update: Update, key: str, *, alert: bool = False, **kw: object) -> None:
        """Answer the tap with the message ``key`` (as a pop-up when ``alert``)."""
        query = update.callback_query
        if query is None:
            return
        lang = await self.s.language_for(update)
        await acknowledge(query, self.s.translator.plain(lang, key, None, **kw), alert=alert)

    async def stale(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any tap no handler recognised: say so, change nothing."""
        await self.answer(update, "errors.stale_button", alert=True)


class Command(NamedTuple):
    """A configuration command: where it came from and who sent it."""

    message: Message
    user: User
    chat: Chat


@dataclass(frozen=True)
class ReaderTap:
    """A verified tap on a reader's own screen in their private chat, with the reader's
    language and the moment it is applied."""

    query: CallbackQuery
    action: Action
    user_id: int
    chat_id: int
    title: str
    lang: str
    now: datetime

    async def chat_row(self, session: AsyncSession) -> ChatRow:
        """The reader's chat, registered at its first tap (a tap can come before /start)."""
        return await ensure_private_chat(session, self.chat_id, self.title, self.lang, self.now)


ScreensT = TypeVar("ScreensT")


class Capability(Generic[ScreensT]):
    """A capability with screens: its services, the guard of its buttons and its screens
    (reader's or channel's), and the translator and catalog it reads most."""

    def __init__(self, services: Services, guard: Guard, screens: ScreensT) -> None:
        self.s = services
        self.g = guard
        self.screens = screens
        self.tr = services.translator
        self.catalog = services.catalog


async def acknowledge(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a callback query (Telegram's clients spin until it is answered)."""
    try:
        if text is None:
            await query.answer()
        else:
            await query.answer(text[:200], show_alert=alert)
    except TelegramError as exc:  # an old query id: nothing left to answer
        log.info("could not answer a callback query: %s", exc)


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
