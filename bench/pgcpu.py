"""The PostgreSQL server's CPU spent for one engine's connections (same machine only).

Each connection the engine opens records its server backend's pid
(``pg_backend_pid()``); :func:`backend_cpu` sums those backends' CPU time from
``/proc/<pid>/schedstat`` (or ``/proc/<pid>/stat``), so a bench can add the server's
share to its own process's CPU. The backends of other clients of the same server (other
tests, other work on the machine) are not counted. Off the machine (the server elsewhere)
or on SQLite it reads 0.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

TICK = os.sysconf("SC_CLK_TCK")


def track_backends(engine: AsyncEngine) -> set[int]:
    """The set (filled as connections open) of the engine's server backend pids."""
    pids: set[int] = set()
    if engine.dialect.name != "postgresql":
        return pids

    @event.listens_for(engine.sync_engine, "connect")
    def remember(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        pid = dbapi_connection.run_async(lambda conn: conn.fetchval("SELECT pg_backend_pid()"))
        pids.add(int(pid))

    return pids


def backend_cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds so far of each backend still running: its time on a CPU in
    nanoseconds (``/proc/<pid>/schedstat``) where the kernel keeps it, else user and
    system time in clock ticks (``/proc/<pid>/stat``, 10 ms each: over a 15-second
    window that is up to a tenth of the server's share at 30 messages a second)."""
    seconds: dict[int, float] = {}
    for pid in list(pids):
        try:
            seconds[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
            continue
        except (OSError, ValueError, IndexError):
            pass
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone (the connection was closed) or not on this machine
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """Server CPU seconds between two readings; a backend opened meanwhile counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
