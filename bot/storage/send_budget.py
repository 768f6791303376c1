"""The shared send budget's one statement: ``newsbot_grant_sends`` (migration 0023).

The rules of the budget (what is asked, what a grant means, what to do when the database
does not answer) are ``bot.outbox.budget``'s; this module only asks the server, in
autocommit, so a grant is visible to every other process the moment it is made. It asks
on a connection the budget holds (``bot.storage.held``): a grant is taken for every burst
of a broadcast, and a pool checkout per grant cost more CPU than the statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.held import HeldConnection

# The parameters in the order of the statement's placeholders.
_PARAMETERS = (
    "me",
    "own",
    "chats",
    "groups",
    "used",
    "reply",
    "lim",
    "reserve",
    "slot_ms",
    "slots",
    "private_ms",
    "group_ms",
    "group_lim",
)
_GRANT = (
    "SELECT granted, busy, wait_ms FROM newsbot_grant_sends($1::bigint, $2::integer,"
    " $3::text[], $4::boolean[], $5::integer[], $6::boolean, $7::integer, $8::integer,"
    " $9::integer, $10::integer, $11::integer, $12::integer, $13::integer)"
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


async def grant_sends(held: HeldConnection, params: Mapping[str, object]) -> GrantAnswer:
    """Ask ``newsbot_grant_sends`` with ``params`` (named as in ``_PARAMETERS``)."""
    rows = await held.fetch(_GRANT, *(params[name] for name in _PARAMETERS))
    granted, busy, wait_ms = rows[0]
    return GrantAnswer(tuple(granted or ()), tuple(busy or ()), int(wait_ms))
