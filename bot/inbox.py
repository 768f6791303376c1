"""The update inbox: an update is acknowledged to Telegram only once it is stored.

Long polling advances its offset, and the webhook answers 200, only after the updates are
in the ``inbox`` table (keyed by ``update_id``, so an update Telegram delivers twice is
stored once). A crash then loses nothing: stored updates are handled when the process is
back. While the database cannot take them (down, disk full), updates stay unacknowledged
at Telegram, each reader who wrote is told once that the bot is temporarily unavailable,
and the editors' chat is alerted once per outage.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import TelegramError

from bot.alerts import Alerts, notice
from bot.clock import Clock
from bot.storage.failures import is_database_failure
from bot.storage.inbox import store_updates

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

JSON = dict[str, Any]
RawUpdate = tuple[int, JSON]
_REMEMBERED = 10_000  # update ids whose reader was already told (bounded memory)


class DatabaseOutage:
    """Whether the database is failing now; the editors hear once per outage."""

    def __init__(self, alerts: Alerts) -> None:
        self._alerts = alerts
        self.active = False

    async def failed(self, exc: BaseException) -> None:
        if self.active:
            return
        self.active = True
        log.error("database unavailable: %r", exc)
        await self._alerts.alert(notice("db_down", error=type(exc).__name__))

    async def recovered(self) -> None:
        if not self.active:
            return
        self.active = False
        log.warning("database available again")
        await self._alerts.alert(notice("db_back"))


def reply_target(raw: JSON) -> tuple[str, Any, str | None] | None:
    """How to tell the sender of ``raw`` something: (kind, id, language) or None.

    Private messages get a message, button taps a notification, checkouts a refusal;
    nothing is said in groups and channels.
    """
    message = raw.get("message")
    if isinstance(message, dict):
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        if chat.get("type") == "private" and "id" in chat:
            return "message", chat["id"], sender.get("language_code")
        return None
    for key, kind in (("callback_query", "callback"), ("pre_checkout_query", "checkout")):
        query = raw.get(key)
        if isinstance(query, dict) and "id" in query:
            return kind, query["id"], (query.get("from") or {}).get("language_code")
    return None


class Apology:
    """Tells a reader once per update that the bot is temporarily unavailable."""

    def __init__(self, bot: Bot, text_for: Callable[[str | None], str]) -> None:
        self._bot = bot
        self._text_for = text_for
        self._told: OrderedDict[int, None] = OrderedDict()

    async def tell(self, update_id: int, raw: JSON) -> None:
        target = reply_target(raw)
        if target is None or update_id in self._told:
            return
        self._told[update_id] = None
        while len(self._told) > _REMEMBERED:
            self._told.popitem(last=False)
        kind, to, language = target
        text = self._text_for(language)
        try:
            if kind == "message":
                await self._bot.send_message(to, text)
            elif kind == "callback":
                await self._bot.answer_callback_query(to, text=text)
            else:
                await self._bot.answer_pre_checkout_query(to, ok=False, error_message=text)
        except TelegramError as exc:
            log.warning("could not tell a reader the bot is unavailable: %s", exc)


class Inbox:
    """Stores updates durably; returns False (do not acknowledge) when it cannot."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        outage: DatabaseOutage,
        apology: Apology,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.outage = outage
        self.apology = apology
        self._listeners: list[Callable[[], None]] = []

    def on_stored(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def accept(self, updates: Sequence[RawUpdate]) -> bool:
        """Store ``updates``; True once they are durable (they may be acknowledged)."""
        rows = [(uid, json.dumps(raw, ensure_ascii=False)) for uid, raw in updates]
        try:
            async with self._sessions.begin() as session:
                await store_updates(session, rows, self._clock.now())
        except Exception as exc:
            if not is_database_failure(exc):
                log.error("updates not stored: %r", exc)
            await self.outage.failed(exc)
            for uid, raw in updates:
                await self.apology.tell(uid, raw)
            return False
        await self.outage.recovered()
        for listener in self._listeners:
            listener()
        return True
