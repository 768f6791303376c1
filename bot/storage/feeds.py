"""The feeds aggregate: each catalog feed's polling state row.

The polling state of many feeds is read, and written after 304s, in shared statements
(``scheduler.ingest.polled`` batches the requests); those statements are built once
(per set of columns for the writes): with thousands of feeds, building them anew was
most of a poll's CPU (issue 16, item 4). On PostgreSQL a batch of 304s is one
``UPDATE ... FROM unnest(<one array per column>)``: an executemany had SQLAlchemy
process every row's fourteen parameters and the server run one UPDATE per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from sqlalchemy import Row, Table, TextClause, Update, bindparam, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    FeedRow,
)


async def ensure_feed(session: AsyncSession, url: str) -> FeedRow:
    """The polling state row of a catalog feed, created on first sight."""
    row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
    if row is None:
        row = FeedRow(url=url, current_url=url, initialized=False, disabled=False)
        row.consecutive_failures = 0
        row.alerted = False
        session.add(row)
        await session.flush()
    return row


async def touch_feed(session: AsyncSession, feed_id: int, **values: object) -> None:
    await session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(**values))


#: The feed row's columns a poll reads (``scheduler.ingest.polling.FeedState.of``).
STATE_COLUMNS = (
    "id",
    "current_url",
    "etag",
    "last_modified",
    "initialized",
    "disabled",
    "consecutive_failures",
    "next_poll_at",
    "hold_until",
    "ttl_seconds",
    "last_success_at",
    "idle_polls",
    "moved_to",
    "moved_count",
    "alerted",
    "wordpress_api",
)
#: A feed row of :data:`STATE_COLUMNS` and ``url``, with their names as attributes.
StateRow: TypeAlias = Row[Any]

_FEEDS = cast(Table, FeedRow.__table__)
_STATE = select(_FEEDS.c.url, *(_FEEDS.c[name] for name in STATE_COLUMNS)).where(
    _FEEDS.c.url.in_(bindparam("urls", expanding=True))
)
_UPDATES: dict[tuple[str, ...], Update] = {}


def polled_update(columns: tuple[str, ...]) -> Update:
    """``UPDATE feeds SET <columns> WHERE id = :feed_id``, built once per column set."""
    statement = _UPDATES.get(columns)
    if statement is None:
        values: dict[str, Any] = {name: bindparam(name) for name in columns}
        statement = update(_FEEDS).where(_FEEDS.c.id == bindparam("feed_id")).values(values)
        _UPDATES[columns] = statement
    return statement


_ARRAY_UPDATES: dict[tuple[str, ...], TextClause] = {}


def polled_update_arrays(columns: tuple[str, ...], dialect: Dialect) -> TextClause:
    """PostgreSQL: ``UPDATE feeds SET <columns> FROM unnest(<arrays>)``, one parameter
    (an array) per column, built once per column set."""
    statement = _ARRAY_UPDATES.get(columns)
    if statement is None:
        arrays = ", ".join(
            f"CAST(:{name} AS {_FEEDS.c[name].type.compile(dialect=dialect)}[])"
            for name in ("id", *columns)
        )
        sets = ", ".join(f"{name} = v.{name}" for name in columns)
        statement = text(
            f"UPDATE feeds SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(columns)})"
            " WHERE feeds.id = v.id"
        )
        _ARRAY_UPDATES[columns] = statement
    return statement


async def write_polled(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row's columns (``feed_id`` names the feed): one statement per column set,
    over arrays on PostgreSQL, an executemany elsewhere."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(sorted(name for name in row if name != "feed_id"))
        groups.setdefault(columns, []).append(row)
    connection = await session.connection()
    arrays = connection.dialect.name == "postgresql"
    for columns, params in groups.items():
        if arrays and "id" not in columns and all(name in _FEEDS.c for name in columns):
            values = {name: [row[name] for row in params] for name in columns}
            values["id"] = [row["feed_id"] for row in params]
            await connection.execute(polled_update_arrays(columns, connection.dialect), values)
        else:  # SQLite, or a column the table lacks (which the executemany reports)
            await connection.execute(polled_update(columns), params)


async def polling_rows(session: AsyncSession, urls: Sequence[str]) -> dict[str, StateRow]:
    """The polling state rows of the feeds stored at these URLs, by URL; one statement."""
    connection = await session.connection()
    rows = await connection.execute(_STATE, {"urls": list(set(urls))})
    return {row.url: row for row in rows}


async def stored_rest_bases(session: AsyncSession) -> dict[str, str | None]:
    """Each stored feed's discovered WordPress REST base (None when none was found)."""
    rows = await session.execute(select(FeedRow.url, FeedRow.wordpress_api))
    return {url: base for url, base in rows}
