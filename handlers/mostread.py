"""/mostread [region]: the cached most-read list in the reader's language.

Readers see a note when the list is old (its source has not answered for a
while); operators (NEWSBOT_ADMIN_IDS) also see the list's age, source and the
source's last error, so a dead source is noticed.
"""

from __future__ import annotations

from datetime import datetime

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.mostread import MostReadList, SourceStatus, age_text
from bot.outbox.clean import escape
from bot.outbox.render import render_list
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
            footer=await self.footer(update, lang, top),
        )
        await message.reply_text(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def footer(self, update: Update, lang: str, top: MostReadList) -> str:
        now = self.s.clock.now()
        stale_after = 3 * self.s.catalog.mostread.refresh
        lines = []
        if top.fetched_at is not None and (now - top.fetched_at).total_seconds() > stale_after:
            lines.append(self.s.translator.gettext(lang, "mostread.stale_note"))
        user = update.effective_user
        if user is not None and user.id in self.s.settings.admin_ids:
            (status,) = await self.s.mostread.status([lang])
            lines.append(operator_note(top, status, now))
        return "\n".join(lines)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("mostread", self.mostread)]


def operator_note(top: MostReadList, status: SourceStatus, now: datetime) -> str:
    """One line for operators: which source answered, how old the list is, the last error."""
    parts = [f"source {top.source}", age_text(status.fetched_at, now)]
    if status.error:
        parts.append(f"last error: {status.error[:200]}")
    return f"<i>{escape(' · '.join(parts))}</i>"
