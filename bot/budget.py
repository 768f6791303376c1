"""One Telegram budget for every process of the bot, kept in PostgreSQL.

Each process paces itself (``bot.pacing.Pacer``), but Telegram counts the bot as a whole:
a ``web`` process answering commands and a ``worker`` broadcasting, each at the full rate,
would together exceed it. So on PostgreSQL every send also takes a grant from the
database (``newsbot_take_sends``, migration 0011): a small table counts the sends granted
per 20 ms slot by the server's clock, and a grant is given only while the slots of the
last ``WINDOW`` seconds hold fewer than the rate. The window is a little longer than
Telegram's second, by the time a granted send may take to reach Telegram, so no second of
Telegram's can hold more than the rate, whichever process sent what.

Grants are taken a burst at a time by the sender (one statement per burst, not per
message) and one by one for replies, edits and deletions. Replies come first: a broadcast
grant leaves free as much room as replies used in the window (at least ``reserve``), so a
``/start`` during a broadcast waits a few milliseconds, not a second.

SQLite has one process: its pacer alone keeps the limits, and no budget is built.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

SLOT = 0.02  # seconds per slot of the shared count
REACH = 0.1  # seconds a granted send may take to reach Telegram (event loop, network)
WINDOW_SLOTS = math.ceil((1.0 + REACH) / SLOT) + 1  # 56 slots: 1.12 s
CALL_WITHIN = 1.0  # seconds a grant may take; slower, the send goes on the local pacer alone
_TAKE = text("SELECT newsbot_take_sends(:want, :reply, :lim, :reserve, :slot_ms, :slots)")
_WARN_EVERY = 60.0  # seconds between two warnings that the database could not be asked


class SharedBudget:
    """Grants of sends from the rate all processes share (PostgreSQL only)."""

    def __init__(self, engine: AsyncEngine, rate: float, *, reserve: int | None = None) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.limit = max(1, math.floor(rate))
        # Room broadcasts leave to replies even when none came lately: a tenth of the rate.
        self.reserve = reserve if reserve is not None else max(1, self.limit // 10)
        self._warned_at = -_WARN_EVERY
        self.granted = 0  # sends granted to this process (for tests and metrics)

    @staticmethod
    def wanted(engine: AsyncEngine) -> bool:
        """Several processes may share the database: PostgreSQL."""
        return engine.dialect.name == "postgresql"

    async def take(self, want: int, *, reply: bool) -> tuple[int, float]:
        """``(granted, 0.0)`` with ``granted`` of ``want`` sends that may go now, or
        ``(0, seconds)`` to wait before asking again. A database that does not answer
        within ``CALL_WITHIN`` grants everything: the local pacer still holds this
        process to the rate, and a send is not held back by an outage elsewhere."""
        params = {
            "want": want,
            "reply": reply,
            "lim": self.limit,
            "reserve": self.reserve,
            "slot_ms": round(SLOT * 1000),
            "slots": WINDOW_SLOTS,
        }
        try:
            async with asyncio.timeout(CALL_WITHIN):
                async with self._engine.connect() as conn:
                    answer = int(await conn.scalar(_TAKE, params) or 0)
        except Exception as exc:  # includes the timeout
            self._warn(exc)
            return want, 0.0
        if answer > 0:
            self.granted += answer
            return answer, 0.0
        return 0, max(SLOT, -answer / 1000)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("shared send budget unavailable (%r); pacing this process alone", exc)
