"""The detailed health report: a registry of named checks.

Each check is an async function answering a small JSON-able mapping with at least
``ok``; the report runs them all at once, each within a few seconds, and is healthy
when every one is. Parts of the process add their own checks as they start (the
database write probe and leadership here; Telegram reachability, the last good poll
or the last send elsewhere), so the report grows without this module knowing them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from bot.clock import Clock
from bot.redact import masked
from bot.storage.probes import write_probe

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CHECK_TIMEOUT = 5.0  # seconds; a check that takes longer has failed

Report = dict[str, object]
Check = Callable[[], Awaitable[Mapping[str, object]]]


class HealthChecks:
    """Named checks of one process, run together for the detailed ``/healthz``."""

    def __init__(self, role: str, within: float = CHECK_TIMEOUT) -> None:
        self.role = role
        self._within = within
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) the check called ``name``."""
        self._checks[name] = check

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def report(self) -> tuple[bool, Report]:
        """(healthy, the JSON report): every check's answer under its name."""
        names = list(self._checks)
        answers = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
        results = dict(zip(names, answers, strict=True))
        healthy = all(answer.get("ok") is True for answer in answers)
        return healthy, {"ok": healthy, "role": self.role, "checks": results}

    async def _run(self, check: Check) -> dict[str, object]:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._within):
                answer = dict(await check())
        except TimeoutError:
            answer = {"ok": False, "error": f"no answer within {self._within:g} s"}
        except Exception as exc:  # a check that fails reports why, it does not crash
            answer = {"ok": False, "error": masked(f"{type(exc).__name__}: {exc}")[:300]}
        answer.setdefault("ok", False)
        answer["ms"] = round((time.monotonic() - started) * 1000, 1)
        return answer


def process_name() -> str:
    """This process among others writing probes: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def database_check(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> Check:
    """A write, committed: the database is reachable and takes writes."""
    name = process_name()

    async def check() -> Mapping[str, object]:
        async with sessions.begin() as session:
            await write_probe(session, name, clock.now())
        return {"ok": True}

    return check


class Leader(Protocol):
    name: str

    def holds(self) -> bool: ...


def leadership_check(leaderships: Sequence[Leader]) -> Check:
    """Which guarded parts (scheduler, sender) this process leads now. Informational:
    a standby is healthy."""

    async def check() -> Mapping[str, object]:
        return {"ok": True, "leads": {lead.name: lead.holds() for lead in leaderships}}

    return check
