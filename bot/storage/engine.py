"""Engine and session factory for any SQLAlchemy async URL.

SQLite gets WAL mode, a busy timeout and foreign keys so that the sender, the
scheduler and the handlers can share one file without "database is locked".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the process's engine; SQLite pragmas are set on every connection.

    A PostgreSQL URL may carry ``?search_path=<schema>`` to keep the bot's
    tables in their own schema.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    parsed = make_url(url)
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        search_path = parsed.query.get("search_path")
        if isinstance(search_path, str):
            # asyncpg takes no libpq "options"; a schema is chosen with server settings.
            parsed = parsed.difference_update_query(["search_path"])
            kwargs["connect_args"] = {"server_settings": {"search_path": search_path}}
    engine = create_async_engine(parsed, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
