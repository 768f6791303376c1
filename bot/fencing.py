"""Sessions whose commits are the leader's only: the fence of the scheduler's writes.

The sender checks its lease first in each claim (``bot.outbox.sender``). The scheduler's
writes (polls, the private fan-out, digests and weekly lists, unpins, retention) go
through sessions from :func:`fenced_sessions` while this process leads the scheduler:
each transaction, just before it commits, checks on the server that the lease is still
this process's at the same epoch (:meth:`bot.leadership.Leadership.confirm`) and holds
the lease row's share lock through the commit. A leader cut off from the database that
comes back after a standby took over therefore commits nothing: its transaction is
rolled back with :class:`~bot.leadership.LeaseLost`, and the new leader's work is the
only one written.

The check runs last rather than first so the lease row is share-locked only for the
commit, never for a long fan-out chunk: the leader's own renewal (an UPDATE of that row)
is not kept waiting behind it. Whatever the transaction did before the check is undone
if the lease is gone; a successor cannot take the lease while a commit holds the lock.

Reads through these sessions (``async with sessions() as session``, never committed)
check nothing and cost nothing more.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

_LEASE = "newsbot.lease"


class Lease(Protocol):
    """The lease a commit needs (``bot.leadership.Leadership``)."""

    @property
    def needed(self) -> bool: ...

    def confirm(self, session: Session) -> None:
        """Raise ``LeaseLost`` unless the lease is still ours; called before a commit."""


class FencedSession(Session):
    """A session that confirms its lease before each commit (see the module's doc)."""


@event.listens_for(FencedSession, "before_commit")
def _confirm_lease(session: Session) -> None:
    # Synchronous, as every Session event; under asyncio it runs inside the session's
    # greenlet, so the lease's statement is awaited underneath like any other.
    lease: Lease | None = session.info.get(_LEASE)
    if lease is not None:
        lease.confirm(session)


def fenced_sessions(engine: AsyncEngine, lease: Lease) -> async_sessionmaker[AsyncSession]:
    """Sessions like ``bot.storage.engine.session_factory``'s whose commits need
    ``lease``; without a database that needs leadership (SQLite), plain ones."""
    if not lease.needed:
        return async_sessionmaker(engine, expire_on_commit=False)
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=FencedSession, info={_LEASE: lease}
    )
