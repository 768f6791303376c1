"""One Telegram budget for every process of the bot, kept in PostgreSQL.

Each process paces itself (``bot.outbox.pacing.Pacer``), but Telegram counts the bot as a whole:
a ``web`` process answering commands and a ``worker`` broadcasting, each at the full rate,
would together exceed it, and a reply from one and a broadcast from the other could both
reach one reader within a second. So on PostgreSQL every send also takes a grant from the
database (``newsbot_grant_sends``, migration 0023), folded into the one statement per
burst the sender already made (one per reply), never one per message:

- **the global rate.** A small table counts the sends granted per 20 ms slot by the
  server's clock, per process. A process counts its *own* sends with its local pacer,
  precisely, from the moment each request was written out (so a process sending alone
  goes as fast as on SQLite), and the *others'* from the table over ``WINDOW`` seconds: a
  little longer than Telegram's second, by the time a granted send may take to reach
  Telegram, so no second of Telegram's holds more than the rate, whichever process sent
  what.
- **each chat's own limit** (1/s private, 20/min groups and channels). Broadcasts are in
  the outbox; replies, edits and deletions are noted per chat (``send_replies``). A
  broadcast grant leaves out chats a reply reached within the window; a reply waits while
  its chat has a broadcast in flight or sent within it.
- **replies first.** A broadcast grant leaves free as much room as replies used in the
  window (and ``reserve``, none by default: a fixed reserve would cost broadcasts that
  share of the rate); a reply refused for want of room says so, and broadcasts everywhere
  then also count their own grants from the table until it went, so a ``/start`` during
  a broadcast waits a fraction of a second, not seconds.

SQLite has one process: its pacer alone keeps the limits, and no budget is built.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.outbox.pacing import GROUP_LIMIT, GROUP_WINDOW, PRIVATE_INTERVAL
from bot.storage.held import HeldConnection
from bot.storage.send_budget import GrantTerms, grant_sends, shares_budget

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

SLOT = 0.02  # seconds per slot of the shared count
REACH = 0.1  # seconds a granted send may take to reach Telegram (event loop, network)
WINDOW_SLOTS = math.ceil((1.0 + REACH) / SLOT) + 1  # 56 slots: 1.12 s (at least)
CHAT_MARGIN = 0.1  # seconds added to a chat's window: the reach, and clocks of two hosts
CALL_WITHIN = 1.0  # seconds a grant may take; slower, the send goes on the local pacer alone
_WARN_EVERY = 60.0  # seconds between two warnings that the database could not be asked


@dataclass(frozen=True, slots=True)
class Grant:
    """What the budget allows now: positions (0-based, in the order asked) that may go,
    positions whose chat must wait, and how long to wait when nothing may go."""

    granted: tuple[int, ...]
    busy: tuple[int, ...] = ()
    wait: float = 0.0


class SharedBudget:
    """Grants of sends from the limits all processes share (PostgreSQL only)."""

    def __init__(
        self,
        engine: AsyncEngine,
        rate: float,
        *,
        reserve: int | None = None,
        reach: float = 0.0,
    ) -> None:
        self._held = HeldConnection(engine)  # grants on a connection of its own
        # The others' sends count for the window, longer still by a larger network reach.
        self.window_slots = max(WINDOW_SLOTS, math.ceil((1.0 + REACH + reach) / SLOT) + 1)
        self.limit = max(1, math.floor(rate))
        # Room broadcasts leave to replies even when none came lately (waiting replies
        # are given room as they come, see the module's docstring).
        self.reserve = reserve if reserve is not None else 0
        self.owner = random.getrandbits(62)  # this process, in the shared count
        self.terms = GrantTerms(
            me=self.owner,
            lim=self.limit,
            reserve=self.reserve,
            slot_ms=round(SLOT * 1000),
            slots=self.window_slots,
            private_ms=round((PRIVATE_INTERVAL + CHAT_MARGIN) * 1000),
            group_ms=round((GROUP_WINDOW + CHAT_MARGIN) * 1000),
            group_lim=GROUP_LIMIT,
        )
        self._one_at_a_time = asyncio.Lock()
        self._warned_at = -_WARN_EVERY
        self.granted = 0  # sends granted by take() (a wave asked with its claim is not)

    @staticmethod
    def wanted(engine: AsyncEngine) -> bool:
        """Several processes may share the database: PostgreSQL."""
        return shares_budget(engine)

    async def take(
        self,
        chats: Sequence[str],
        groups: Sequence[bool],
        *,
        reply: bool,
        own_used: Callable[[], int],
        used: Sequence[int] | None = None,
    ) -> Grant:
        """Which of the sends to ``chats`` (addresses; ``""``: no chat of its own) may go
        now. ``groups`` says which chats are groups or channels, ``used`` this process's
        own sends to each within the last minute, ``own_used()`` its sends in its pacer's
        window. The caller commits what is granted to its pacer before its next ``await``:
        one take at a time per process, so the next one counts them.

        A database that does not answer within ``CALL_WITHIN`` grants everything: the
        local pacer still holds this process to the limits, and a send is not held back by
        an outage elsewhere."""
        params: dict[str, object] = {
            **self.terms.params(),
            "chats": list(chats),
            "groups": list(groups),
            "used": list(used) if used is not None else [0] * len(chats),
            "reply": reply,
            "ahead_ms": 0,
        }
        try:
            async with asyncio.timeout(CALL_WITHIN), self._one_at_a_time:
                params["own"] = own_used()
                answer = await grant_sends(self._held, params)
        except Exception as exc:  # includes the timeout
            self._warn(exc)
            return Grant(tuple(range(len(chats))))
        granted = tuple(i - 1 for i in answer.granted)
        self.granted += len(granted)
        busy = tuple(i - 1 for i in answer.busy)
        return Grant(granted, busy, 0.0 if granted else max(SLOT, answer.wait_ms / 1000))

    async def close(self) -> None:
        """Give back the connection grants are asked on (a later grant takes one again)."""
        async with self._one_at_a_time:
            await self._held.close()

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("shared send budget unavailable (%r); pacing this process alone", exc)
