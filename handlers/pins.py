"""Unpinning breaking posts when their time is up.

A breaking post for a channel or group with ``pin_breaking_hours`` is pinned by the
publisher right after it is sent; its outbox row carries ``unpin_at`` (set when it was
enqueued). This job unpins the due ones through the bot whose requests pass the shared
rate limiter, like corrections, and clears ``unpin_at`` whatever Telegram answers (a
message already unpinned or deleted by the admins needs nothing more). Rows still being
sent wait; rows that ended unsent (dead, dropped, unknown) have nothing to unpin.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.chat_ids import chat_id_of
from bot.clock import Clock
from bot.storage.deliveries import due_unpins, set_unpin_time

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

EVERY_SECONDS = 60.0
BATCH = 50
#: Outbox states of a row not sent yet: its unpin waits.
WAITING_STATES = ("pending", "retry", "claimed", "inflight")


class UnpinJob:
    """Unpins breaking posts whose ``unpin_at`` has passed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        *,
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._bot = bot
        self._clock = clock
        self._batch = batch

    async def run(self) -> int:
        """Unpin the due posts; returns how many Telegram unpinned."""
        now = self._clock.now()
        async with self._sessions() as session:
            rows = await due_unpins(session, now, WAITING_STATES, self._batch)
        done = 0
        for row_id, state, message_id, address in rows:
            if state == "sent" and message_id is not None:
                try:
                    done += await self._unpin(address, message_id)
                except RetryAfter as exc:
                    await self._postpone(row_id, exc.retry_after, now)
                    break  # the whole budget is paused: the rest waits too
            await self._clear(row_id)
        return done

    async def _unpin(self, address: str, message_id: int) -> int:
        try:
            await self._bot.unpin_chat_message(chat_id_of(address), message_id=message_id)
        except RetryAfter:
            raise
        except TelegramError as exc:
            log.warning("could not unpin message %d in %s: %s", message_id, address, exc)
            return 0
        return 1

    async def _clear(self, row_id: int) -> None:
        async with self._sessions.begin() as session:
            await set_unpin_time(session, row_id, None)

    async def _postpone(self, row_id: int, wait: float | timedelta, now: datetime) -> None:
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        async with self._sessions.begin() as session:
            await set_unpin_time(session, row_id, now + timedelta(seconds=seconds))


def pin_jobs(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, bot: Bot | None
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    """The scheduler entry for ``build_scheduler(extra=...)``; none without a bot."""
    if bot is None:
        return []
    return [("unpin", EVERY_SECONDS, UnpinJob(sessions, bot, clock).run)]
