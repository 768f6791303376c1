"""What a database failure looks like, and how the loops that ride one out log it.

A database that is down, restarting, or whose network dropped or froze is an expected
failure (issue: no traceback for an expected failure): the loops that meet one (the
sender, polls, the private fan-out, scheduled jobs) log one line and try again later;
the traceback goes to DEBUG. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: A write refused by a unique key: another writer stored the same row first (a CMS push
#: on a web process and a poll storing one article). Named here for the callers that
#: catch it and build no SQL of their own (the scheduler's polls).
WriteConflict = IntegrityError

#: Any error of the database layer: for the best-effort callers that survive every one
#: of them (a tracked link's tap count, a CMS push answered 503) without building SQL.
DatabaseError = SQLAlchemyError

_DEPTH = 4  # causes followed: SQLAlchemy wraps the driver's error, which wraps the socket's


def is_database_failure(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) says the database is unavailable, not a bug
    or bad data."""
    for _ in range(_DEPTH):
        if exc is None:
            return False
        if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | DisconnectionError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, ConnectionRefusedError | ConnectionResetError):
            return True
        if type(exc).__module__.startswith(("asyncpg", "aiosqlite")):
            return True
        exc = exc.orig if isinstance(exc, DBAPIError) else exc.__cause__
    return False


def log_failure(
    logger: logging.Logger,
    exc: BaseException,
    message: str,
    *args: object,
    extra: Mapping[str, object] | None = None,
) -> None:
    """Log ``message`` for a failure the caller survives: one WARNING line when the
    database is unavailable (its traceback at DEBUG), an ERROR with the traceback when
    it is anything else."""
    if is_database_failure(exc):
        logger.warning(f"{message}: database unavailable (%r)", *args, exc, extra=extra)
        logger.debug("the database failure in full", exc_info=exc)
    else:
        logger.error(message, *args, exc_info=exc, extra=extra)
