"""A reader's topics and keywords (``/settings`` → "Topics and keywords").

One screen, reached from the settings menu, redrawn in place after every tap, as the other
settings screens are (``handlers.settings``): topic toggles (``fT.<index>``), one button
per keyword that removes it (``fX.<token>``, a short hash of the keyword, so a button
still names the same keyword after the list changed), and "Add a keyword" (``fK``),
which asks for the words with a reply prompt. The words come back as a reply to that
prompt, recognised by its text: no conversation state is kept between the two messages,
so any process may take the answer. Buttons are signed and bound to the reader (forged
or foreign ones change nothing).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.callbacks import Action
from bot.i18n import Translator
from bot.storage.chats import ensure_private_chat, find_chat, remove_chat_region
from bot.storage.editions import add_chat_language, chat_languages, remove_chat_language
from bot.storage.follows import (
    MAX_KEYWORDS,
    Follows,
    add_chat_keywords,
    chat_follows,
    keyword_token,
    remove_chat_keyword,
    toggle_chat_topic,
)
from bot.storage.models import ChatRow
from bot.text.terms import keyword_term
from handlers.actions import ALSO_LANGUAGE, OPEN_FOLLOWS, OPEN_SETTINGS, UNDO_LANGUAGE
from handlers.buttons import (
    HANDLER,
    Callback,
    Capability,
    acknowledge,
    chunk,
    edit,
    tap_handlers,
    topic_buttons,
)
from handlers.reader_screens import ReaderScreens
from handlers.subscriptions import language_label, topic_names

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PROMPT_KEY = "follow.keyword_prompt"
# The session is named as a string: its type is imported for type checking only.
Tap = Callable[["AsyncSession", ChatRow, Action], Awaitable[bool]]
_SEPARATORS = re.compile(r"[,;\n،]+")


def split_keywords(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


class ReplyToPrompt(filters.MessageFilter):
    """A message answering the bot's keyword prompt (in any of the UI languages)."""

    def __init__(self, tr: Translator) -> None:
        super().__init__(name="ReplyToPrompt")
        self.prompts = {tr.plain(lang, PROMPT_KEY).strip() for lang in tr.languages}

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and (replied.text or "").strip() in self.prompts
        )


class FollowSettings(Capability[ReaderScreens]):
    """The reader's topics and keywords screen; callback actions start with ``f``."""

    def screen(
        self, follows: Follows, lang: str, uid: int, cid: int
    ) -> tuple[str, InlineKeyboardMarkup]:
        tr = self.tr
        none = tr.plain(lang, "follow.none")
        labels = ", ".join(label for _, label in follows.keywords)
        text = tr.gettext(
            lang,
            "follow.screen",
            topics=topic_names(self.catalog, follows.topics, lang) or none,
            keywords=labels or none,
            limit=MAX_KEYWORDS,
        )
        rows = topic_buttons(self.g, self.catalog, follows.topics, lang, uid, cid, "fT")
        removals = [
            self.g.button("✖ " + label, uid, cid, "fX", keyword_token(term))
            for term, label in follows.keywords
        ]
        rows += chunk(removals, 2)
        if len(follows.keywords) < MAX_KEYWORDS:
            rows.append(
                [self.g.button(tr.plain(lang, "follow.add_keyword_button"), uid, cid, "fK")]
            )
        back = tr.plain(lang, "settings.back_button")
        rows.append([self.g.button(back, uid, cid, OPEN_SETTINGS, "m")])
        return text, InlineKeyboardMarkup(rows)

    def on_tap(self, name: str, change: Tap) -> Callback:
        """The handler of action ``name``: verify, store what ``change`` says, redraw."""

        async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            tap = await self.g.private_tap(update, name)
            if tap is None:
                return
            lang, uid, cid = tap.lang, tap.user_id, tap.chat_id
            async with self.s.sessions.begin() as session:
                row = await tap.chat_row(session)
                if not await change(session, row, tap.action):
                    await self.g.answer(update, "errors.stale_button", alert=True)
                    return
                follows = await chat_follows(session, row.id)
                if name == ALSO_LANGUAGE:
                    shown = await self.screens.screen(session, "l", uid, cid, lang)
                elif name == UNDO_LANGUAGE:
                    shown = (self.undone(row.language, follows), None)
                else:
                    shown = self.screen(follows, lang, uid, cid)
            if name == "fK":
                await self.ask(tap.query.message, lang)
            else:
                await edit(tap.query, *shown)
            await acknowledge(tap.query)

        return handle

    def taps(self) -> dict[str, Tap]:
        """Every action of the screen and the function that applies it (False: the tap
        names nothing the catalog or the reader has, so it was forged or is old)."""
        return {
            OPEN_FOLLOWS: self.plain,
            "fK": self.plain,
            "fT": self.topic,
            "fX": self.remove_keyword,
            ALSO_LANGUAGE: self.also,
            UNDO_LANGUAGE: self.undo,
        }

    async def plain(self, _s: AsyncSession, _row: ChatRow, action: Action) -> bool:
        """``fO`` (the screen) and ``fK`` (the keyword prompt) change nothing."""
        return not action.args

    async def topic(self, session: AsyncSession, row: ChatRow, action: Action) -> bool:
        index = action.int_arg(0)
        if index is None or index >= len(self.catalog.topics):
            return False
        await toggle_chat_topic(session, row.id, self.catalog.topics[index].code)
        return True

    async def remove_keyword(self, session: AsyncSession, row: ChatRow, action: Action) -> bool:
        """``fX.<token>``: the keyword whose token it is (already removed: the redraw shows it)."""
        if len(action.args) != 1:
            return False
        term = (await chat_follows(session, row.id)).keyword_for(action.args[0])
        if term is not None:
            await remove_chat_keyword(session, row.id, term)
        return True

    async def also(self, session: AsyncSession, row: ChatRow, action: Action) -> bool:
        """``fA.<language>``: follow another edition too, or no more."""
        index = action.int_arg(0)
        if index is None or index >= len(self.catalog.languages):
            return False
        code = self.catalog.languages[index]
        if code in await chat_languages(session, row.id):
            await remove_chat_language(session, row.id, code)
        else:
            await add_chat_language(session, row, code)
        return True

    async def undo(self, session: AsyncSession, row: ChatRow, action: Action) -> bool:
        """``fU.<language>.<region or k>``: take back what a deep link added."""
        langs, regions = self.catalog.languages, self.catalog.regions
        index, region = action.int_arg(0), action.int_arg(1)
        if index is None or index >= len(langs):
            return False
        if action.args[1:] != ("k",) and (region is None or region >= len(regions)):
            return False
        await remove_chat_language(session, row.id, langs[index])
        if region is not None:
            await remove_chat_region(session, row.id, regions[region].code)
        return True

    def undone(self, lang: str, follows: Follows) -> str:
        names = [language_label(self.tr, code) for code in (lang, *follows.languages)]
        return self.tr.gettext(lang, "follow.language_undone", languages=", ".join(names))

    async def ask(self, message: object, lang: str) -> None:
        """The reply prompt for new keywords (as a new message: the screen stays)."""
        if not isinstance(message, Message):
            return
        await message.reply_text(
            self.tr.gettext(lang, PROMPT_KEY),
            parse_mode=ParseMode.HTML,
            reply_markup=ForceReply(input_field_placeholder="Karabakh, Batumi*"),
        )

    async def on_keywords(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The reader answered the prompt: add what is usable, say what was not."""
        answer = await self.g.typed(update)
        if answer is None:
            return
        (message, user, chat), typed = answer
        lang = await self.s.language_for(update)
        usable: list[tuple[str, str]] = []
        refused: list[str] = []
        for word in split_keywords(typed)[: MAX_KEYWORDS * 2]:
            term = keyword_term(word)
            if term is None:
                refused.append(word[:40])
            else:
                usable.append((term, " ".join(word.split())[:64]))
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row = await ensure_private_chat(session, chat.id, chat.full_name or "", lang, now)
            added, full = await add_chat_keywords(session, row.id, usable)
            follows = await chat_follows(session, row.id)
        lines = self.outcome(lang, added, refused, full, bool(usable))
        text, markup = self.screen(follows, lang, user.id, chat.id)
        await message.reply_text(
            "\n".join(lines) + "\n\n" + text, parse_mode=ParseMode.HTML, reply_markup=markup
        )

    def outcome(
        self, lang: str, added: list[str], refused: list[str], full: bool, any_usable: bool
    ) -> list[str]:
        tr = self.tr
        lines = []
        if added:
            lines.append(tr.gettext(lang, "follow.keywords_added", keywords=", ".join(added)))
        if refused:
            lines.append(tr.gettext(lang, "follow.keywords_invalid", keywords=", ".join(refused)))
        if full:
            lines.append(tr.gettext(lang, "follow.keywords_full", limit=MAX_KEYWORDS))
        elif any_usable and not added:
            lines.append(tr.gettext(lang, "follow.keywords_known"))
        return lines

    def handlers(self) -> list[HANDLER]:
        private = filters.ChatType.PRIVATE
        answer = private & filters.TEXT & ~filters.COMMAND & ReplyToPrompt(self.tr)
        return [
            *tap_handlers({name: self.on_tap(name, tap) for name, tap in self.taps().items()}),
            MessageHandler(answer, self.on_keywords),
        ]


async def reader_follows(session: AsyncSession, chat_id: int) -> Follows:
    """What a private chat follows (nothing before its first contact)."""
    row = await find_chat(session, str(chat_id))
    return await chat_follows(session, row.id) if row is not None else Follows()


__all__ = ["FollowSettings", "reader_follows"]
