"""Hints to SQLite's query planner, which chooses indexes without statistics.

With no ``ANALYZE`` data, SQLite searches any index whose leading column a query compares
with ``=`` or ``IN``, even where that costs a search per row: a fan-out chunk's private
chats found through the (kind, id) index and then looked up one by one, or a chat's
regions searched once per region of the article. A unary ``+`` makes the column an
expression SQLite searches no index for, so it reads the rows in id order (or the
chat's few regions) and filters them. PostgreSQL plans from its statistics and gets the
column unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op


def is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def unindexed(column: ColumnElement[Any], *, sqlite: bool) -> ColumnElement[Any]:
    """``column`` as a filter only on SQLite (``+column``), as is elsewhere."""
    if not sqlite:
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)
