"""PTB rate limiter that lets replies share the broadcast budget without waiting for it.

The sender paces its own calls and posts them below PTB's ``Bot`` layer
(``bot.telegram.publisher``), so they never come here. Every other message the bot sends (a
reply to a command, an edit) takes its place in the shared ``Pacer`` at once, so
broadcasts yield to it and the sum stays within Telegram's global limit (DESIGN.md
decision 3). A reply waits only when the last second's window is full (at most a burst
period, half a second at 30/s) and for its own chat's limit. A 429 on a reply pauses the
broadcast too, then the reply is tried once more. On PostgreSQL each send also takes its
grant from the budget all processes share (``bot.outbox.budget``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.chat_ids import is_private_chat
from bot.outbox.budget import SharedBudget
from bot.outbox.pacing import REQUEST_WRITTEN, Pacer, Stamp

log = logging.getLogger(__name__)

MAX_REPLY_WAIT = 30.0
_ASK_AGAIN = 0.05  # seconds at most between two asks of a waiting reply (shared budget)
_Answer = bool | dict[str, Any] | list[dict[str, Any]]
_Chat = tuple[str, bool, str]  # address ("" for none), a group or channel, the pacer's key
_SENDING = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendInvoice",
        "editMessageText",
        "copyMessage",
        "deleteMessage",
        "answerInlineQuery",
    }
)


class ReplyHeldBack(RetryAfter):
    """Raised by the limiter itself, not by Telegram: the bot is paused (a 429's
    ``retry_after``) for longer than a reply should wait. It does not extend the pause."""


class SharedBudgetLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        pacer: Pacer,
        clock: Callable[[], float] = time.monotonic,
        budget: SharedBudget | None = None,
    ) -> None:
        self._pacer = pacer
        self._clock = clock
        self._budget = budget  # the rate shared with other processes (PostgreSQL)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        """The bot stops: the shared budget gives back its connection."""
        if self._budget is not None:
            await self._budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in _SENDING:
            return await callback(*args, **kwargs)
        chat = await self._wait_for_chat(data)
        try:
            return await self._counted(callback, args, kwargs, chat)
        except ReplyHeldBack:
            raise  # our own refusal during a pause: Telegram said nothing new
        except RetryAfter as exc:
            raw = exc.retry_after
            wait = raw.total_seconds() if isinstance(raw, timedelta) else float(raw)
            self._pacer.pause(self._clock() + wait)
            if wait > MAX_REPLY_WAIT:
                raise
            log.warning("reply hit a 429; retrying after %.0f s", wait)
            await asyncio.sleep(wait)
            return await self._counted(callback, args, kwargs, chat)

    async def _counted(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Answer]],
        args: Any,
        kwargs: dict[str, Any],
        chat: _Chat,
    ) -> _Answer:
        """One call, counted in the pacer's window from now until a second and the reach
        after its request was written out."""
        await self._wait_for_room(chat)
        address, group, key = chat
        if address and not group:  # its second is counted from now, not from the wait
            self._pacer.note_private(key, self._clock())
        stamp = Stamp(self._pacer, self._clock)
        token = REQUEST_WRITTEN.set(stamp)
        try:
            return await callback(*args, **kwargs)
        finally:
            REQUEST_WRITTEN.reset(token)
            stamp()

    async def _wait_for_room(self, chat: _Chat) -> None:
        """Wait (rarely, and at most a burst period) for room in the one-second window, then
        take the reply's place in it; broadcasts leave that room to waiting replies.

        While Telegram has paused the bot (a 429's ``retry_after``) a reply waits too, up to
        ``MAX_REPLY_WAIT``; a longer pause fails the reply at once with ``RetryAfter``.
        """
        delay = self._pacer.reply_delay(self._clock())
        if delay > MAX_REPLY_WAIT:
            raise ReplyHeldBack(timedelta(seconds=math.ceil(delay)))
        if delay > 0 or self._budget is not None:
            self._pacer.reply_waiting(True)
            try:
                while delay > 0:
                    await asyncio.sleep(delay)
                    delay = self._pacer.reply_delay(self._clock())
                await self._shared_grant(chat)
            finally:
                self._pacer.reply_waiting(False)
        self._pacer.take_for_reply(self._clock())

    async def _shared_grant(self, chat: _Chat) -> None:
        """Wait for the other processes to leave room for this send, and for its chat
        (``bot.outbox.budget``); broadcasts everywhere make room for a waiting reply, so this
        is a fraction of a second at most."""
        if self._budget is None:
            return
        address, group, _key = chat
        waited = 0.0
        while waited < MAX_REPLY_WAIT:
            grant = await self._budget.take(
                [address], [group], reply=True, own_used=self._own_in_window
            )
            if grant.granted:
                return
            wait = min(grant.wait, _ASK_AGAIN)
            await asyncio.sleep(wait)
            waited += wait
        raise ReplyHeldBack(timedelta(seconds=math.ceil(waited)))

    def _own_in_window(self) -> int:
        return self._pacer.sends_in_window(self._clock())

    async def _wait_for_chat(self, data: dict[str, Any]) -> _Chat:
        """Keep one chat's own limit (1/s private, 20/min groups) for replies too; returns
        the chat (address, whether a group or channel, the pacer's key).

        A reader who sends three commands at once gets three answers a second
        apart instead of a 429; a reply to a quiet chat never waits.
        """
        chat_id = data.get("chat_id")
        if chat_id is None:
            return "", False, ""
        key = f"{chat_id}:{data.get('message_thread_id') or 0}"
        kind = "private" if is_private_chat(chat_id) else "group"
        now = self._clock()
        ready = self._pacer.chat_ready_at(key, kind, now)
        if ready > now:
            await asyncio.sleep(ready - now)
        self._pacer.note_chat(key, kind, self._clock())
        return str(chat_id), kind != "private", key
