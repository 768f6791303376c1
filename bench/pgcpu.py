"""The PostgreSQL server's CPU spent for one engine's connections (same machine only).

Each connection the engine opens records its server backend's pid
(``pg_backend_pid()``); :func:`backend_cpu` sums those backends' user and system time
from ``/proc/<pid>/stat``, so a bench can add the server's share to its own process's
CPU. The backends of other clients of the same server (other tests, other work on the
machine) are not counted. Off the machine (the server elsewhere) or on SQLite it reads 0.
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
    """CPU seconds (user + system) so far of each backend still running."""
    seconds: dict[int, float] = {}
    for pid in list(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone (the connection was closed) or not on this machine
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """Server CPU seconds between two readings; a backend opened meanwhile counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
