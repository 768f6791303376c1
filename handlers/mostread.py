"""/mostread [region]: the cached most-read list in the reader's language."""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.render import render_list
from handlers.services import Services


class MostRead:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def mostread(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        lang = await self.s.language_for(update)
        tr = self.s.translator
        region = None
        if context.args:
            wanted = context.args[0].lower()
            if self.s.catalog.region(wanted) is not None:
                region = wanted
        top = await self.s.mostread.top(lang, region)
        if not top.items:
            await message.reply_text(tr.gettext(lang, "mostread.empty"), parse_mode=ParseMode.HTML)
            return
        text = render_list(
            heading=tr.gettext(lang, "mostread.heading", outlet=self.s.catalog.outlet.name),
            items=[
                (item.title, item.url, [self.s.catalog.region_name(c, lang) for c in item.regions])
                for item in top.items
            ],
        )
        await message.reply_text(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("mostread", self.mostread)]
