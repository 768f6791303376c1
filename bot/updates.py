"""Updates in: long polling that acknowledges only stored updates, and the processor that
hands stored updates to PTB's handlers in order, once each (see ``bot.inbox``).

PTB's own Updater advances the offset as soon as updates are in its in-memory queue, so
the bot polls ``getUpdates`` itself and feeds ``Application.process_update``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.clock import Clock
from bot.inbox import Inbox
from bot.startup import backoff
from bot.storage.failures import is_database_failure
from bot.storage.inbox import mark_handled, pending_updates

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates call open
BATCH = 50


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class Poller:
    """``getUpdates`` in a loop; the offset moves past updates only once they are stored."""

    def __init__(
        self, application: AnyApplication, inbox: Inbox, allowed_updates: list[str]
    ) -> None:
        self._bot = application.bot
        self._inbox = inbox
        self._allowed = allowed_updates

    async def run(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                updates = await self._bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=self._allowed
                )
            except RetryAfter as exc:
                failures += 1
                await _pause(stop, max(backoff(failures), _seconds(exc.retry_after)))
                continue
            except TelegramError as exc:
                failures += 1
                delay = backoff(failures)
                log.warning("getUpdates failed: %s; retrying in %.1f s", exc, delay)
                await _pause(stop, delay)
                continue
            failures = 0
            if not updates:
                continue
            raw = [(u.update_id, u.to_dict()) for u in updates]
            if await self._inbox.accept(raw):
                offset = updates[-1].update_id + 1
                continue
            failures += 1  # not stored: asked again (unacknowledged) after a pause
            await _pause(stop, backoff(failures))


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


class UpdateProcessor:
    """Hands stored updates to the handlers, oldest first; marks each handled after.

    An update whose handling failed because the database did (seen by an error handler
    registered here) stays in the inbox: the reader is told to try again, and it is
    handled again once the database is back. Other handler errors are bugs or bad input:
    logged by the application's error handler, and the update counts as handled.
    """

    def __init__(
        self,
        application: AnyApplication,
        inbox: Inbox,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        sweep: float = 1.0,
    ) -> None:
        self._application = application
        self._inbox = inbox
        self._sessions = sessions
        self._clock = clock
        self._sweep = sweep
        self._wake = asyncio.Event()
        self._failed: dict[int, BaseException] = {}
        application.add_error_handler(self._note_failure)
        inbox.on_stored(self._wake.set)

    async def _note_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update) and is_database_failure(context.error):
            assert context.error is not None
            self._failed[update.update_id] = context.error

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: handle what is pending, then wait for news (or the next sweep,
        which finds what other processes stored)."""
        failures = 0
        while not stop.is_set():
            self._wake.clear()
            try:
                done = await self.handle_pending()
            except Exception as exc:
                if is_database_failure(exc):
                    await self._inbox.outage.failed(exc)
                else:  # a bug: say so, and keep the bot answering
                    log.exception("inbox: handling stopped by an unexpected error")
                done = False
            if done:
                failures = 0
                await _pause_or_wake(stop, self._wake, self._sweep)
            else:
                failures += 1
                await _pause(stop, backoff(failures))

    async def handle_pending(self) -> bool:
        """Handle every pending update; False at the first one the database failed."""
        while True:
            async with self._sessions() as session:
                batch = await pending_updates(session, BATCH)
            for update_id, payload in batch:
                if not await self._handle(update_id, payload):
                    return False
            if len(batch) < BATCH:
                return True

    async def _handle(self, update_id: int, payload: str) -> bool:
        try:
            raw = json.loads(payload)
            update = Update.de_json(raw, self._application.bot)
        except Exception as exc:  # unreadable: nothing a retry would change
            log.error("inbox: update %d unreadable, skipped: %r", update_id, exc)
            raw, update = None, None
        if update is not None:
            await self._application.process_update(update)
        failure = self._failed.pop(update_id, None)
        if failure is not None:
            await self._inbox.outage.failed(failure)
            await self._inbox.apology.tell(update_id, raw or {})
            return False
        async with self._sessions.begin() as session:
            await mark_handled(session, update_id, self._clock.now())
        await self._inbox.outage.recovered()
        return True


async def _pause_or_wake(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
