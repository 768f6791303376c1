"""/stats for the outlet's operators: a short text and two charts (where the readers are;
the last 30 days), readable on a phone.

The figures come from ``bot.stats`` (grouped queries); the chart is drawn in a
thread so a slow render never holds up other readers' replies. Anyone else gets
a polite refusal and no figures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.mostread import age_text
from bot.stats import collect
from bot.stats_chart import render_chart, render_trend
from bot.stats_text import format_stats
from handlers.services import Services

log = logging.getLogger(__name__)


class Stats:
    def __init__(self, services: Services) -> None:
        self.s = services

    def region_names(self, lang: str) -> dict[str, str]:
        return {r.code: self.s.catalog.region_name(r.code, lang) for r in self.s.catalog.regions}

    async def stats(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        if user is None or not await self.s.refuse_unless_operator(update):
            return
        async with self.s.sessions() as session:
            figures = await collect(session, self.s.clock.now())
        lang = await self.s.language_for(update)
        names = self.region_names(lang)
        text = format_stats(figures, names, self.s.translator, lang)
        text += await self.mostread_status()
        await message.reply_text(text, parse_mode=None)
        trend = figures.trend
        charts: list[tuple[str, Callable[[], bytes]]] = [
            ("stats.png", lambda: render_chart(figures, names))
        ]
        if trend is not None:
            charts.append(("trend.png", lambda: render_trend(trend)))
        for filename, draw in charts:
            try:
                png = await asyncio.to_thread(draw)
            except Exception:  # a chart is a bonus: the figures were already sent
                log.exception("stats chart %s could not be drawn", filename)
                continue
            await message.reply_photo(InputFile(png, filename=filename))

    async def mostread_status(self) -> str:
        """How old each language's most-read list is, and the source's last error."""
        source = self.s.catalog.mostread.source
        if source == "latest":
            return ""
        now = self.s.clock.now()
        lines = ["", f"Most-read source ({source}):"]
        for status in await self.s.mostread.status(list(self.s.catalog.languages)):
            line = f"  {status.language}: {age_text(status.fetched_at, now)}"
            if status.error:
                line += f"; last error: {status.error[:120]}"
            lines.append(line)
        return "\n".join(lines)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [CommandHandler("stats", self.stats)]
