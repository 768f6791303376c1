"""/start, /help and the hints for anything else said in private chat."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.storage.chats import find_chat
from handlers.actions import UNDO_LANGUAGE
from handlers.buttons import Capability
from handlers.reader_screens import ReaderScreens
from handlers.subscriptions import (
    Subscribed,
    language_label,
    parse_link,
    subscribe_edition,
    topic_names,
)


class Basics(Capability[ReaderScreens]):
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        tr = self.s.translator
        if context.args:
            link = parse_link(context.args[0], self.s.catalog, lang)
            if link is None:
                await message.reply_text(
                    tr.gettext(lang, "start.deeplink_invalid"), parse_mode=ParseMode.HTML
                )
                return
            region, edition_lang = link.region, link.language
            done = await subscribe_edition(self.s, update, region, edition_lang, link.topics)
            if done is not None and done.added:
                await self.language_added(update, message, done, region, edition_lang)
                return
            text = tr.gettext(
                edition_lang,
                "start.deeplink_subscribed",
                edition=self.edition_name(region, edition_lang),
            )
            if link.topics:
                names = topic_names(self.s.catalog, link.topics, edition_lang)
                text += "\n" + tr.gettext(edition_lang, "start.deeplink_topics", topics=names)
            await message.reply_text(text, parse_mode=ParseMode.HTML)
            return
        await self.show_start(update, message)

    async def show_start(self, update: Update, message: Message) -> None:
        """/start without a payload: the greeting with the language and region picker (a
        reader who had stopped is welcomed back and subscribed again)."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        ui_lang = await self.s.language_for(update)
        now = self.s.clock.now()
        async with self.s.sessions.begin() as session:
            row = await find_chat(session, str(chat.id))
            if row is not None and not row.active:
                row.active = True
                row.updated_at = now
                await message.reply_text(
                    self.s.translator.gettext(ui_lang, "start.welcome_back"),
                    parse_mode=ParseMode.HTML,
                )
            text, markup = await self.screens.screen(session, "s", user.id, chat.id, ui_lang)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def language_added(
        self, update: Update, message: Message, done: Subscribed, region: str, lang: str
    ) -> None:
        """A reader of other languages added this one: say so, in their own language, with
        a button that takes it back (and the region, when the link added it)."""
        tr, catalog = self.s.translator, self.s.catalog
        first = done.languages[0]
        names = ", ".join(language_label(tr, code) for code in done.languages)
        text = tr.gettext(
            first,
            "follow.language_added",
            edition=self.edition_name(region, lang, first),
            languages=names,
        )
        user, chat = update.effective_user, update.effective_chat
        markup = None
        if user is not None and chat is not None:
            undo = self.g.button(
                tr.plain(first, "follow.undo_button"),
                user.id,
                chat.id,
                UNDO_LANGUAGE,
                catalog.languages.index(lang),
                [r.code for r in catalog.regions].index(region) if done.new_region else "k",
            )
            markup = InlineKeyboardMarkup([[undo]])
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    def edition_name(self, region: str, lang: str, ui_lang: str | None = None) -> str:
        """A region and a language ("Georgia · English"), named in ``ui_lang`` (by default
        the edition's own language)."""
        language = language_label(self.s.translator, lang)
        return f"{self.s.catalog.region_name(region, ui_lang or lang)} · {language}"

    async def help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        await message.reply_text(
            self.s.translator.gettext(lang, "help.text", outlet=self.s.catalog.outlet.name),
            parse_mode=ParseMode.HTML,
        )

    async def unknown_command(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        await message.reply_text(
            self.s.translator.gettext(lang, "hint.unknown_command"), parse_mode=ParseMode.HTML
        )

    async def free_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        await message.reply_text(
            self.s.translator.gettext(lang, "hint.free_text"), parse_mode=ParseMode.HTML
        )

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("start", self.start, filters=private),
            CommandHandler("help", self.help),
        ]

    def fallbacks(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        """Registered last: anything no other handler took."""
        private = filters.ChatType.PRIVATE
        fallbacks: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
            MessageHandler(private & filters.COMMAND, self.unknown_command),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.free_text),
        ]
        fallbacks.append(CallbackQueryHandler(self.g.stale))  # a tap no table names
        return fallbacks


__all__ = ["Basics", "ChatType"]
