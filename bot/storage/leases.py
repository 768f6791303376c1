"""The ``leases`` table: who leads each guarded part (scheduler, sender, updates) on
PostgreSQL, until when (the server's clock) and in which epoch.

The rules (when to take, renew, stop, fence) are ``bot.leadership``'s; these are its
statements. Every expiry is computed on the database server's clock, so the processes'
clocks never need to agree. SQLite has one process and no leases (:func:`needed`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

# The server's clock, in the naive UTC the tables keep (statements that fence a lease use it).
SERVER_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
_NOW = SERVER_NOW
_EXPIRY = f"{_NOW} + make_interval(secs => :ttl)"
# Expired, or still ours (this process lost it by its own clock, e.g. a renewal that
# failed while the network was down, and nobody took it since): a new epoch either way,
# so a transaction of the previous term can no longer pass the fence.
_TAKE_EXPIRED = text(
    f"UPDATE leases SET holder = :holder, epoch = epoch + 1, expires_at = {_EXPIRY} "
    f"WHERE name = :name AND (expires_at <= {_NOW} OR holder = :holder) RETURNING epoch"
)
_TAKE_NEW = text(
    f"INSERT INTO leases (name, holder, epoch, expires_at) VALUES (:name, :holder, 1, {_EXPIRY}) "
    "ON CONFLICT (name) DO NOTHING RETURNING epoch"
)
_RENEW = text(
    f"UPDATE leases SET expires_at = {_EXPIRY} WHERE name = :name AND holder = :holder "
    f"AND epoch = :epoch AND expires_at > {_NOW} RETURNING epoch"
)
_RELEASE = text(
    f"UPDATE leases SET expires_at = {_NOW} WHERE name = :name AND holder = :holder "
    "AND epoch = :epoch"
)
_FENCE = text(
    "SELECT set_config('idle_in_transaction_session_timeout', :idle, true) FROM leases "
    f"WHERE name = :name AND holder = :holder AND epoch = :epoch AND expires_at > {_NOW} "
    "FOR SHARE"
)


@dataclass(frozen=True, slots=True)
class Term:
    """One holder's term of a lease: the statements below act only on this epoch."""

    name: str
    holder: str
    epoch: int

    def params(self, **more: object) -> dict[str, object]:
        return {"name": self.name, "holder": self.holder, "epoch": self.epoch, **more}


def needed(engine: AsyncEngine) -> bool:
    """Leases exist on PostgreSQL only (several processes); SQLite's one process leads."""
    return engine.dialect.name == "postgresql"


async def take(engine: AsyncEngine, name: str, holder: str, ttl: float) -> int | None:
    """The lease's new epoch if ``holder`` took it (expired, never taken, or still its
    own), else None. Held for ``ttl`` seconds of the server's clock."""
    async with engine.begin() as conn:
        params = {"name": name, "holder": holder, "ttl": ttl}
        epoch = await conn.scalar(_TAKE_EXPIRED, params)
        if epoch is None:
            epoch = await conn.scalar(_TAKE_NEW, params)
        return None if epoch is None else int(epoch)


async def renew(engine: AsyncEngine, term: Term, ttl: float) -> bool:
    """Extend ``term`` by ``ttl`` seconds from now; False when it was over already."""
    async with engine.begin() as conn:
        return await conn.scalar(_RENEW, term.params(ttl=ttl)) is not None


async def release(engine: AsyncEngine, term: Term) -> None:
    """End ``term`` now, so a standby may take the lease at once."""
    async with engine.begin() as conn:
        await conn.execute(_RELEASE, term.params())


async def fence(session: AsyncSession, term: Term, idle_ms: int) -> bool:
    """True when ``term`` is still current; then the lease row stays share-locked until
    the session's transaction ends (which the server ends after ``idle_ms`` of silence)."""
    params = term.params(idle=str(idle_ms))
    return await session.scalar(_FENCE, params) is not None


def confirm(session: Session, term: Term, idle_ms: int) -> bool:
    """:func:`fence` for a synchronous session (a ``before_commit`` hook)."""
    params = term.params(idle=str(idle_ms))
    return session.execute(_FENCE, params).scalar() is not None
