"""/donate: the catalog's appeal, its links and (when configured) Telegram Stars amounts.

Link buttons go through the tracked redirect when NEWSBOT_PUBLIC_URL is set (so
donate taps are counted per edition); Stars buttons carry signed callback data
bound to the reader and chat, naming the index of a configured amount
(``handlers.payments`` sends the invoice).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.callbacks import CallbackSigner
from bot.outbox.clean import escape, http_url
from handlers.actions import STARS_ACTION
from handlers.services import Services

STARS_PER_ROW = 3


class Donate:
    def __init__(self, services: Services, signer: CallbackSigner | None = None) -> None:
        self.s = services
        self.signer = signer or CallbackSigner(services.settings.signing_key())

    def link_rows(self, lang: str) -> list[list[InlineKeyboardButton]]:
        donate = self.s.catalog.donate
        if donate is None:
            return []
        rows = []
        for link in donate.links:
            url = http_url(self.s.catalog.text(link.url, lang))
            if url:
                label = self.s.catalog.text(link.label, lang) or self.s.translator.plain(
                    lang, "donate.button"
                )
                tracked = self.s.posts.link("donate", url, f"all-{lang}")
                rows.append([InlineKeyboardButton(label[:64], url=tracked)])
        return rows

    def stars_rows(self, lang: str, user_id: int, chat_id: int) -> list[list[InlineKeyboardButton]]:
        donate = self.s.catalog.donate
        if donate is None or donate.stars is None:
            return []
        buttons = [
            InlineKeyboardButton(
                self.s.translator.plain(lang, "donate.stars_button", n=amount),
                callback_data=self.signer.sign(user_id, chat_id, STARS_ACTION, index),
            )
            for index, amount in enumerate(donate.stars.amounts)
        ]
        return [buttons[i : i + STARS_PER_ROW] for i in range(0, len(buttons), STARS_PER_ROW)]

    def keyboard(
        self, lang: str, user_id: int | None = None, chat_id: int | None = None
    ) -> InlineKeyboardMarkup | None:
        rows = self.link_rows(lang)
        if user_id is not None and chat_id is not None:
            rows += self.stars_rows(lang, user_id, chat_id)
        return InlineKeyboardMarkup(rows) if rows else None

    async def donate(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
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
        if donate is not None and donate.stars is not None and user and chat:
            text += "\n\n" + self.s.translator.gettext(lang, "donate.stars_intro")
        markup = self.keyboard(lang, user.id if user else None, chat.id if chat else None)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("donate", self.donate)]
