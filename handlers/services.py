"""What handlers need, built once by the composition root and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import Update, User

from bot.alerts import Alerts, LogAlerts
from bot.callbacks import RateLimiter
from bot.catalog import Catalog
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator
from bot.mostread import MostReadStore
from bot.outbox.compose import PostBuilder
from bot.storage.chats import chat_language

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalog: Catalog
    translator: Translator
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    mostread: MostReadStore
    posts: PostBuilder
    alerts: Alerts = field(default_factory=LogAlerts)
    # Refusals of operator commands: two at once, then one a minute per user, so that
    # nobody can use them to make the bot talk in a chat.
    refusals: RateLimiter = field(default_factory=lambda: RateLimiter(burst=2, per_second=1 / 60))

    def is_operator(self, update: Update) -> bool:
        """The outlet's operators are the users listed in NEWSBOT_ADMIN_IDS."""
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids

    async def refuse_unless_operator(self, update: Update) -> bool:
        """True for an operator in private chat; anyone else gets at most a short refusal.

        Operator output (donor ids, backlog figures) is never shown in a group or channel,
        where anyone present could read it: there the answer is only a hint to ask in
        private. Refusals are throttled per user.
        """
        chat = update.effective_chat
        private = chat is not None and chat.type == "private"
        if private and self.is_operator(update):
            return True
        user, message = update.effective_user, update.effective_message
        if message is None or user is None or not self.refusals.allow(user.id):
            return False
        lang = await self.language_for(update)
        key = "errors.operators_only" if private else "errors.private_only"
        await message.reply_text(self.translator.gettext(lang, key))
        return False

    async def language_for(self, update: Update) -> str:
        """The reader's language: their saved choice, else Telegram's, else the outlet's."""
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            saved = await self._saved_language(chat.id)
            if saved is not None:
                return saved
        user = update.effective_user
        return self.translator.pick_language(user.language_code if user else None)

    async def language_of_user(self, user: User) -> str:
        """A user's language where there is no chat (inline queries): the one saved for
        their private chat with the bot, else Telegram's, else the outlet's."""
        saved = await self._saved_language(user.id)
        return saved or self.translator.pick_language(user.language_code)

    async def _saved_language(self, private_chat_id: int) -> str | None:
        async with self.sessions() as session:
            saved = await chat_language(session, str(private_chat_id))
        return saved if saved in self.catalog.languages else None
