"""The shared send budget's one statement: ``newsbot_grant_sends`` (migrations 0023, 0029).

The rules of the budget (what is asked, what a grant means, what to do when the database
does not answer) are ``bot.outbox.budget``'s; this module only asks the server, in
autocommit, so a grant is visible to every other process the moment it is made. It asks
on a connection the budget holds (``bot.storage.held``): a grant is taken for every burst
of a broadcast, and a pool checkout per grant cost more CPU than the statement.

A broadcast's wave asks its grant inside the statement that claims it
(``bot.storage.direct_claims``, :func:`grant_call`): the same function, asked ahead of the
burst (``ahead_ms``) for the rows the claim is about to take.
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
    "ahead_ms",
)
_GRANT = (
    "SELECT granted, busy, wait_ms FROM newsbot_grant_sends($1::bigint, $2::integer,"
    " $3::text[], $4::boolean[], $5::integer[], $6::boolean, $7::integer, $8::integer,"
    " $9::integer, $10::integer, $11::integer, $12::integer, $13::integer, $14::integer)"
)


@dataclass(frozen=True, slots=True)
class GrantTerms:
    """What every grant of one process asks alike: who asks (``me``), the limits and the
    window (named as the function's parameters)."""

    me: int
    lim: int
    reserve: int
    slot_ms: int
    slots: int
    private_ms: int
    group_ms: int
    group_lim: int

    def params(self) -> dict[str, object]:
        """The terms as ``grant_sends``' parameters."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class GrantAsk:
    """A broadcast's grant asked with the claim of its wave: the process's terms, its own
    sends its pacer will count in the window when the burst leaves (``own``), and how long
    before that the claim is made (``ahead_ms``)."""

    terms: GrantTerms
    own: int
    ahead_ms: int


def grant_call(terms: GrantTerms, own: str, ahead: str, chats: str) -> str:
    """``newsbot_grant_sends`` asked for a broadcast from inside another statement: the
    terms written into its text (integers), ``own`` and ``ahead`` its placeholders, and
    ``chats`` a row source with the asked ``chats``, ``groups`` and ``used`` arrays."""
    values = [int(v) for v in (terms.lim, terms.reserve, terms.slot_ms, terms.slots)]
    values += [int(v) for v in (terms.private_ms, terms.group_ms, terms.group_lim)]
    return (
        f"newsbot_grant_sends({int(terms.me)}::bigint, {own}::integer, {chats}.chats,"
        f" {chats}.groups, {chats}.used, false, {', '.join(map(str, values))}, {ahead}::integer)"
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
