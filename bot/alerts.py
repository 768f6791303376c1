"""Operational alerts for the editors' chat (never readers' chats).

An alert is a :class:`Notice`, a message key of ``alert.*`` and its parameters, put into
words when it is sent: in the operators' language (the first operator's choice in the
bot, else the outlet's), in English in the log. Alerts are batched: a burst (ten feeds
failing at once, a run of dead letters) becomes one message, sent at most every
``min_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.i18n import Translator
from bot.storage.chats import private_chat_languages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("newsbot.alerts")


@functools.cache
def _english() -> Translator:
    return Translator.load(("en",), "en")


@dataclass(frozen=True, slots=True)
class Notice:
    """One alert line, to be worded in the reader's (here: the operator's) language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def words(self, tr: Translator, lang: str) -> str:
        return tr.plain(lang, self.key, None, **self.params)

    def __str__(self) -> str:
        """In English (logs, tests)."""
        return self.words(_english(), "en")


def notice(key: str, **params: object) -> Notice:
    """``notice("alert.feed_back", url=...)``."""
    return Notice(f"alert.{key}", params)


class Alerts(Protocol):
    async def alert(self, notice: Notice) -> None:
        """Queue one line for the editors."""
        ...


class LogAlerts:
    """Alerts go to the log only (dry runs, or no editors' chat configured); ``sent``
    keeps them in English."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def alert(self, notice: Notice) -> None:
        self.sent.append(str(notice))
        log.warning("ALERT %s", notice)


SendText = Callable[[str], Awaitable[None]]
Language = Callable[[], Awaitable[str]]


class BatchedAlerts:
    """Collects lines and sends them as one message through ``send``, worded in the
    ``language`` it answers when the message goes (the operators may change theirs)."""

    def __init__(
        self,
        send: SendText,
        translator: Translator,
        language: Language,
        *,
        min_interval: float = 10.0,
        max_lines: int = 30,
    ) -> None:
        self._send = send
        self._tr = translator
        self._language = language
        self._min_interval = min_interval
        self._max_lines = max_lines
        self._lines: list[Notice] = []
        self._flusher: asyncio.Task[None] | None = None

    async def alert(self, notice: Notice) -> None:
        log.warning("ALERT %s", notice)
        self._lines.append(notice)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._min_interval)
        await self.flush()

    async def flush(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            lang = await self._language()
        except Exception:  # the database may be what the alert is about
            log.exception("the operators' language is unknown: alerts go in the default")
            lang = self._tr.pick_language(None)
        shown = [n.words(self._tr, lang) for n in lines[: self._max_lines]]
        if len(lines) > self._max_lines:
            more = len(lines) - self._max_lines
            shown.append(self._tr.plain(lang, "alert.more", more))
        try:
            await self._send("\n".join(f"• {line}" for line in shown))
        except Exception:
            log.exception("could not send alerts to the editors' chat")

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.flush()


async def operators_language(
    session: AsyncSession, admin_ids: Sequence[int], translator: Translator
) -> str:
    """The language alerts are worded in: the one the first operator (in
    ``NEWSBOT_ADMIN_IDS`` order) chose in their private chat with the bot, else the
    outlet's default."""
    if admin_ids:
        chosen = await private_chat_languages(session, [str(i) for i in admin_ids])
        for admin in admin_ids:
            if chosen.get(str(admin)):
                return translator.pick_language(chosen[str(admin)])
    return translator.pick_language(None)
