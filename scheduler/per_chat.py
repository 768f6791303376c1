"""The loop of the jobs that queue one list per chat: daily digests (``scheduler.digest``)
and weekly most-read lists (``scheduler.weekly``).

Each due chat is delivered on its own (its own claim and transaction), so one chat's
failure, logged, never stops the others; the sender is woken once at the end when
anything was queued.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from bot.storage.failures import log_failure


class Addressed(Protocol):
    """A chat a job delivers to, named in its log lines by address."""

    @property
    def address(self) -> str: ...


Chat = TypeVar("Chat", bound=Addressed)


async def queue_each(
    chats: Iterable[Chat],
    deliver: Callable[[Chat], Awaitable[bool]],
    *,
    log: logging.Logger,
    what: str,
    on_enqueued: Callable[[], None] | None = None,
) -> int:
    """``deliver`` to each chat; returns how many queued something (``deliver`` True)."""
    queued = 0
    for chat in chats:
        try:
            queued += int(await deliver(chat))
        except Exception as exc:  # one chat's failure never stops the others
            log_failure(log, exc, "%s for chat %s failed", what, chat.address)
    if queued and on_enqueued is not None:
        on_enqueued()
    return queued
