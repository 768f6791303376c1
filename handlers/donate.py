"""/donate: the catalog's appeal and links as URL buttons, in the reader's language."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.render import escape, http_url
from handlers.services import Services


class Donate:
    def __init__(self, services: Services) -> None:
        self.s = services

    def keyboard(self, lang: str) -> InlineKeyboardMarkup | None:
        donate = self.s.catalog.donate
        if donate is None:
            return None
        rows = []
        for link in donate.links:
            url = http_url(self.s.catalog.text(link.url, lang))
            if url:
                label = self.s.catalog.text(link.label, lang) or self.s.translator.gettext(
                    lang, "donate.button"
                )
                rows.append([InlineKeyboardButton(label, url=url)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def donate(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        donate = self.s.catalog.donate
        appeal = self.s.catalog.text(donate.text, lang) if donate else ""
        text = (
            escape(appeal)
            if appeal
            else self.s.translator.gettext(
                lang, "donate.text_default", outlet=self.s.catalog.outlet.name
            )
        )
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=self.keyboard(lang))

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("donate", self.donate)]
