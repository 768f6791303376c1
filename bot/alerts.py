"""Operational alerts for the editors' chat (never readers' chats).

Alerts are batched: a burst (ten feeds failing at once, a run of dead letters)
becomes one message, sent at most every ``min_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("newsbot.alerts")


class Alerts(Protocol):
    async def alert(self, text: str) -> None:
        """Queue one line for the editors."""
        ...


class LogAlerts:
    """Alerts go to the log only (dry runs, or no editors' chat configured)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def alert(self, text: str) -> None:
        self.sent.append(text)
        log.warning("ALERT %s", text)


SendText = Callable[[str], Awaitable[None]]


class BatchedAlerts:
    """Collects lines and sends them as one message through ``send``."""

    def __init__(self, send: SendText, *, min_interval: float = 10.0, max_lines: int = 30) -> None:
        self._send = send
        self._min_interval = min_interval
        self._max_lines = max_lines
        self._lines: list[str] = []
        self._flusher: asyncio.Task[None] | None = None

    async def alert(self, text: str) -> None:
        log.warning("ALERT %s", text)
        self._lines.append(text)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._min_interval)
        await self.flush()

    async def flush(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        shown = lines[: self._max_lines]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown)} more")
        try:
            await self._send("\n".join(f"• {line}" for line in shown))
        except Exception:
            log.exception("could not send alerts to the editors' chat")

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.flush()
