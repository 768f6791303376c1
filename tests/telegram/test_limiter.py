"""Replies share the pacer's window with broadcasts (``bot.telegram.limiter``).

PTB hands the limiter a callback that makes the real call; here the callback records when
it ran and answers as the Bot API would, so the limiter's own decisions are what is tested.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.outbox.pacing import Pacer
from bot.telegram.limiter import MAX_REPLY_WAIT, SharedBudgetLimiter


class Calls:
    """The callback PTB would pass: each call is timed; ``refuse`` answers 429 first."""

    def __init__(self, refuse: int = 0, retry_after: float = 0.2) -> None:
        self.at: list[float] = []
        self.refuse = refuse
        self.retry_after = retry_after

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.at.append(time.monotonic())
        if self.refuse:
            self.refuse -= 1
            raise RetryAfter(timedelta(seconds=self.retry_after))
        return {"message_id": len(self.at)}


async def reply(limiter: SharedBudgetLimiter, calls: Calls, chat_id: int = 7) -> object:
    return await limiter.process_request(
        calls, (), {}, "sendMessage", {"chat_id": chat_id, "text": "hi"}, None
    )


def fill_window(pacer: Pacer, landed_ago: float) -> None:
    """A full window of broadcast sends whose answers came back ``landed_ago`` seconds ago."""
    answered = time.monotonic() - landed_ago
    for n in range(pacer.limit):
        pacer.commit(f"900{n}", "private", answered)
        pacer.written(answered)


async def test_a_reply_goes_at_once_and_leaves_the_window_when_answered() -> None:
    pacer = Pacer(30)
    limiter = SharedBudgetLimiter(pacer)
    calls = Calls()
    started = time.monotonic()
    assert await reply(limiter, calls) == {"message_id": 1}
    assert calls.at[0] - started < 0.05
    assert pacer.sends_in_window(time.monotonic()) == 1  # counted until a second after
    for _ in range(pacer.limit - 1):
        pacer.take_for_reply(time.monotonic())
        pacer.written(time.monotonic())
    assert pacer.reply_delay(time.monotonic()) > 0.9  # the window is full now


async def test_a_reply_to_a_full_window_waits_until_the_oldest_send_ages_out() -> None:
    pacer = Pacer(30)
    fill_window(pacer, landed_ago=0.8)  # these leave the window in about 0.2 s
    limiter = SharedBudgetLimiter(pacer)
    calls = Calls()
    started = time.monotonic()
    await reply(limiter, calls)
    waited = calls.at[0] - started
    assert 0.15 <= waited <= 0.5


async def test_calls_that_send_nothing_are_not_counted() -> None:
    pacer = Pacer(30)
    fill_window(pacer, landed_ago=0.0)
    limiter = SharedBudgetLimiter(pacer)
    calls = Calls()
    started = time.monotonic()
    await limiter.process_request(calls, (), {}, "answerCallbackQuery", {}, None)
    assert calls.at[0] - started < 0.05  # no waiting for the full window


async def test_a_reply_refused_with_429_pauses_broadcasts_and_is_tried_once_more() -> None:
    pacer = Pacer(30)
    limiter = SharedBudgetLimiter(pacer)
    calls = Calls(refuse=1, retry_after=0.3)
    await reply(limiter, calls)
    assert len(calls.at) == 2
    assert calls.at[1] - calls.at[0] >= 0.3
    assert pacer.paused_until >= calls.at[0] + 0.3 - 0.01
    # Both attempts were counted, and both came back: nothing stays in flight for ever.
    assert pacer.sends_in_window(time.monotonic()) == 2
    assert pacer.sends_in_window(time.monotonic() + 1.1) == 0


async def test_a_long_pause_fails_the_reply_instead_of_holding_it() -> None:
    pacer = Pacer(30)
    pacer.pause(time.monotonic() + MAX_REPLY_WAIT + 10)
    limiter = SharedBudgetLimiter(pacer)
    calls = Calls()
    with pytest.raises(RetryAfter):
        await reply(limiter, calls)
    assert calls.at == []  # never sent into Telegram's flood control


async def test_replies_held_back_by_a_pause_do_not_extend_it() -> None:
    pacer = Pacer(30)
    until = time.monotonic() + MAX_REPLY_WAIT + 10
    pacer.pause(until)
    limiter = SharedBudgetLimiter(pacer)
    for _ in range(3):
        with pytest.raises(RetryAfter):
            await reply(limiter, Calls())
        await asyncio.sleep(0.05)
    assert pacer.paused_until == until  # broadcasts resume when Telegram said, not later
