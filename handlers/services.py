"""What handlers need, built once by the composition root and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update

from bot.catalog import Catalog
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator
from bot.mostread import MostReadStore
from bot.posts import PostBuilder
from bot.storage.models import ChatRow


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalog: Catalog
    translator: Translator
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    mostread: MostReadStore
    posts: PostBuilder

    def is_operator(self, update: Update) -> bool:
        """The outlet's operators are the users listed in NEWSBOT_ADMIN_IDS."""
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids

    async def refuse_unless_operator(self, update: Update) -> bool:
        """True for operators; anyone else gets a polite refusal in their language."""
        if self.is_operator(update):
            return True
        message = update.effective_message
        if message is not None:
            lang = await self.language_for(update)
            await message.reply_text(self.translator.gettext(lang, "errors.operators_only"))
        return False

    async def language_for(self, update: Update) -> str:
        """The reader's language: their saved choice, else Telegram's, else the outlet's."""
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            async with self.sessions() as session:
                saved = await session.scalar(
                    select(ChatRow.language).where(
                        ChatRow.address == str(chat.id), ChatRow.thread_id == 0
                    )
                )
            if saved in self.catalog.languages:
                return saved
        user = update.effective_user
        return self.translator.pick_language(user.language_code if user else None)
