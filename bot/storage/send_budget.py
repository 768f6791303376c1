"""The shared send budget's one statement: ``newsbot_grant_sends`` (migration 0023).

The rules of the budget (what is asked, what a grant means, what to do when the database
does not answer) are ``bot.outbox.budget``'s; this module only asks the server, in
autocommit, so a grant is visible to every other process the moment it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_GRANT = text(
    "SELECT granted, busy, wait_ms FROM newsbot_grant_sends(CAST(:me AS bigint), "
    "CAST(:own AS integer), CAST(:chats AS text[]), CAST(:groups AS boolean[]), "
    "CAST(:used AS integer[]), CAST(:reply AS boolean), CAST(:lim AS integer), "
    "CAST(:reserve AS integer), CAST(:slot_ms AS integer), CAST(:slots AS integer), "
    "CAST(:private_ms AS integer), CAST(:group_ms AS integer), CAST(:group_lim AS integer))"
)


@dataclass(frozen=True, slots=True)
class GrantAnswer:
    """The server's answer: 1-based positions granted and busy, and how long to wait."""

    granted: tuple[int, ...]
    busy: tuple[int, ...]
    wait_ms: int


def shares_budget(engine: AsyncEngine) -> bool:
    """Several processes may share the database, and the function lives there: PostgreSQL."""
    return engine.dialect.name == "postgresql"


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine as the budget uses it: each grant committed as it is made."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def grant_sends(engine: AsyncEngine, params: Mapping[str, object]) -> GrantAnswer:
    """Ask ``newsbot_grant_sends`` with ``params`` (named as in the statement)."""
    async with engine.connect() as conn:
        row = (await conn.execute(_GRANT, dict(params))).one()
    return GrantAnswer(tuple(row.granted or ()), tuple(row.busy or ()), int(row.wait_ms))
