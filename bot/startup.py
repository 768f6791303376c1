"""Starting up on a bad day: wait for what may come back, stop at once for what will not.

An operator reads one line, not a traceback (CONTRACT.md "Exit codes"). A database that is
not reachable yet (it is starting, the network is slow) is retried with backoff for
``NEWSBOT_DB_WAIT`` seconds, then the process exits 1. Problems only the operator can fix
(a missing database, a refused login, a port in use, a token Telegram rejects) end the
start with one line saying what to do, exit 2. Telegram being unreachable is neither: the
bot retries until it answers and meanwhile polls feeds and fills the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.errors import ConfigError, StartFailure

log = logging.getLogger("newsbot.startup")

T = TypeVar("T")

FIRST_DELAY = 0.5
MAX_DELAY = 15.0

# PostgreSQL error codes the operator has to fix: no such database, login refused.
_MISSING_DATABASE = "3D000"
_LOGIN_REFUSED = ("28000", "28P01")


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1-based): doubling, capped."""
    return float(min(FIRST_DELAY * 2 ** (attempt - 1), MAX_DELAY))


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (getattr(exc, "orig", None), exc.__cause__, exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def database_problem(exc: BaseException) -> str | None:
    """The operator's problem in ``exc`` as one configuration line, or None if it may pass."""
    code = _sqlstate(exc)
    detail = str(getattr(exc, "orig", None) or exc)
    if code == _MISSING_DATABASE or ("database" in detail and "does not exist" in detail):
        return f"NEWSBOT_DATABASE_URL: {detail}; create it (createdb) or fix the name in the URL"
    if code in _LOGIN_REFUSED:
        return f"NEWSBOT_DATABASE_URL: the server refused the login ({detail}); fix the URL"
    if "unable to open database file" in detail:
        return (
            "NEWSBOT_DATABASE_URL: cannot open the SQLite file; "
            "check that its directory exists and is writable"
        )
    return None


def sqlite_file_problem(url: str) -> str | None:
    """Why a SQLite file URL cannot work, checked before any connection is tried.

    A missing or read-only directory will not fix itself while we wait, and failing before
    the driver starts keeps its connection thread out of a loop that is about to close.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    directory = os.path.dirname(os.path.abspath(parsed.database))
    if not os.path.isdir(directory):
        return (
            f"NEWSBOT_DATABASE_URL: the SQLite file's directory {directory} does not exist; "
            "create it or fix the path"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"NEWSBOT_DATABASE_URL: the SQLite file's directory {directory} is not writable "
            "by this user; fix its permissions or the path"
        )
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {exc.orig}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text


async def wait_for_database(open_database: Callable[[], Awaitable[T]], wait: float) -> T:
    """``open_database()``, retried with backoff for ``wait`` seconds.

    Raises ConfigError (exit 2) when the database itself is wrong and still is after the
    wait, StartFailure (exit 1) when it never answered.
    """
    deadline = time.monotonic() + wait
    attempt = 0
    while True:
        attempt += 1
        try:
            return await open_database()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            last = exc
        log.debug("database attempt %d failed", attempt, exc_info=last)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        delay = min(backoff(attempt), left)
        log.warning(
            "database not reachable (attempt %d): %s; retrying in %.1f s",
            attempt,
            _describe(last),
            delay,
        )
        await asyncio.sleep(delay)
    problem = database_problem(last)
    if problem is not None:
        raise ConfigError([problem])
    raise StartFailure(
        f"database not reachable after {wait:g} s (NEWSBOT_DB_WAIT): {_describe(last)}"
    )


async def connect_telegram(connect: Callable[[], Awaitable[None]], stop: asyncio.Event) -> bool:
    """Run ``connect()`` until Telegram answers it; False if ``stop`` came first.

    One log line per failed attempt. A rejected token is the operator's to fix: it raises
    ConfigError at once (without the token: PTB's message would show it).
    """
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await connect()
            if attempt > 1:
                log.info("Telegram reachable again after %d attempts", attempt)
            return True
        except InvalidToken:
            raise ConfigError(
                [
                    "NEWSBOT_BOT_TOKEN: Telegram rejected the token (401); "
                    "copy it again from @BotFather"
                ]
            ) from None
        except RetryAfter as exc:
            delay = max(backoff(attempt), _seconds(exc.retry_after))
            reason = "asked to wait"
        except (NetworkError, TelegramError, OSError, TimeoutError) as exc:
            delay = backoff(attempt)
            reason = str(exc) or type(exc).__name__
        log.warning(
            "Telegram not reachable (attempt %d): %s; retrying in %.1f s", attempt, reason, delay
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return False


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    if callable(total):
        return float(total())
    return float(value) if isinstance(value, int | float) else 1.0


async def listen(start: Callable[[], Awaitable[None]], setting: str, host: str, port: int) -> None:
    """Start a listener; a port in use or forbidden is the operator's to fix (exit 2)."""
    try:
        await start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                [
                    f"{setting}: {host}:{port} is already in use; stop the other process "
                    "or choose another port"
                ]
            ) from None
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            raise ConfigError(
                [
                    f"{setting}: cannot listen on {host}:{port} ({exc.strerror}); "
                    "choose another address or port"
                ]
            ) from None
        raise
