"""Engine and session factory for any SQLAlchemy async URL.

SQLite gets WAL mode, a busy timeout and foreign keys so that the sender, the
scheduler and the handlers can share one file without "database is locked".

PostgreSQL connections get a bound on every wait (DESIGN.md pitfalls: a silent
network partition must not hang the bot, nor leave the server holding a session
for hours): a connect timeout, a client-side command timeout, the server's
``statement_timeout`` and ``idle_in_transaction_session_timeout``, and TCP
keepalives with ``tcp_user_timeout`` on both ends of the socket, so a dead peer
is noticed in seconds rather than after the kernel's two hours.

A connection taken from the pool is pinged first only if it sat idle for
``PING_IDLE_AFTER`` seconds (``_ping_if_idle``): SQLAlchemy's ``pool_pre_ping``
pings on every checkout, a round trip and a server wake-up each time, two or three
per burst of a broadcast (docs/benchmarks.md "Cost per message"). A connection in
use moments ago is as alive as the ping would show; the pool is LIFO so the busy
connections stay the warm ones.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

# The session factory's type, for the modules that pass one around at run time (an aiohttp
# ``AppKey``) without building queries themselves.
Sessions: TypeAlias = async_sessionmaker[AsyncSession]
# Opens one transaction (``sessions.begin``, or a queue of writes around it): what the
# scheduler's writers are given, so that they commit where and how their owner decides.
Transaction: TypeAlias = Callable[[], AbstractAsyncContextManager[AsyncSession]]

CONNECT_TIMEOUT = 10.0  # seconds to open a connection (asyncpg ``timeout``)
STATEMENT_TIMEOUT = 30.0  # seconds a statement may run on the server
COMMAND_TIMEOUT = STATEMENT_TIMEOUT + 5.0  # client side: the server's own limit comes first
IDLE_IN_TRANSACTION_TIMEOUT = 60.0  # seconds an open transaction may wait for the client
KEEPALIVE_IDLE = 10  # seconds of silence before the first TCP keepalive probe
KEEPALIVE_INTERVAL = 5  # seconds between probes
KEEPALIVE_COUNT = 3  # unanswered probes before the connection is dropped
USER_TIMEOUT_MS = 20_000  # sent data unacknowledged this long: the connection is dead
SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_IDLE_AFTER = 2.0  # seconds a pooled connection may idle before it is pinged at checkout


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def postgres_server_settings() -> dict[str, str]:
    """Session settings the server applies to each of the bot's connections."""
    return {
        "statement_timeout": str(int(STATEMENT_TIMEOUT * 1000)),
        "idle_in_transaction_session_timeout": str(int(IDLE_IN_TRANSACTION_TIMEOUT * 1000)),
        "tcp_keepalives_idle": str(KEEPALIVE_IDLE),
        "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL),
        "tcp_keepalives_count": str(KEEPALIVE_COUNT),
        "tcp_user_timeout": str(USER_TIMEOUT_MS),
        # The bot's statements are short; the JIT compiles a plan whose estimate passes
        # ``jit_above_cost`` for about a second (each fan-out chunk's INSERT ... SELECT:
        # 1.1 s of compiling for 0.4 s of reading, EXPLAIN ANALYZE in docs/benchmarks.md).
        "jit": "off",
    }


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the process's engine; SQLite pragmas are set on every connection.

    A PostgreSQL URL may carry ``?search_path=<schema>`` to keep the bot's
    tables in their own schema.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    parsed = make_url(url)
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        server_settings = postgres_server_settings()
        search_path = parsed.query.get("search_path")
        if isinstance(search_path, str):
            # asyncpg takes no libpq "options"; a schema is chosen with server settings.
            parsed = parsed.difference_update_query(["search_path"])
            server_settings["search_path"] = search_path
        kwargs.update(
            pool_size=10,
            max_overflow=10,
            pool_use_lifo=True,
            pool_timeout=CONNECT_TIMEOUT,
            connect_args={
                "timeout": CONNECT_TIMEOUT,
                "command_timeout": COMMAND_TIMEOUT,
                "server_settings": server_settings,
            },
        )
    engine = create_async_engine(parsed, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "connect", _client_keepalive)
        event.listen(engine.sync_engine, "checkin", _note_checkin)
        event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    if record is not None:
        record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """``pool_pre_ping`` for connections that idled ``PING_IDLE_AFTER`` seconds or more
    (a fresh connection is not pinged): a dead one is replaced by the pool, which retries
    the checkout on ``DisconnectionError`` as pre-ping would."""
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_IDLE_AFTER:
        return
    try:
        dbapi_conn.ping()
    except Exception as err:
        raise exc.DisconnectionError(f"pooled connection failed its ping: {err!r}") from err


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _client_keepalive(dbapi_conn: Any, _record: Any) -> None:
    """The bot's end of the socket probes and times out too (asyncpg sets none of it)."""
    driver = getattr(dbapi_conn, "driver_connection", None)
    transport = getattr(driver, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket has no TCP options
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        ("TCP_USER_TIMEOUT", USER_TIMEOUT_MS),
    ):
        if hasattr(socket, name):  # Linux names; other systems keep their defaults
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    try:
        for level, option, value in options:
            sock.setsockopt(level, option, value)
    except OSError as exc:
        log.debug("could not set TCP keepalive on a database connection: %r", exc)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
