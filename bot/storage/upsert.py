"""INSERT ... ON CONFLICT DO NOTHING on both databases, for every aggregate's idempotent writes."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_conflicts(
    session: AsyncSession, table: type[object]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ``ON CONFLICT DO NOTHING`` support on both databases."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
