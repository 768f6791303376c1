"""The deliveries aggregate: outbox rows created for an article, counted and dropped.

Each function takes an ``AsyncSession`` and leaves committing to the caller, so an article
and its outbox rows are written together (DESIGN.md decision 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import quiet_until
from bot.outbox.queue import BACKLOG_STATES, DUE_STATES, Backlog
from bot.storage.chats import ALL_REGIONS
from bot.storage.editions import language_condition
from bot.storage.follows import follow_condition
from bot.storage.models import (
    DUE_CONDITION,
    ChatRegionRow,
    ChatRow,
    OutboxRow,
    not_pending,
)
from bot.storage.planner import is_sqlite, unindexed
from bot.storage.upsert import insert_ignoring_conflicts

#: Breaking news rows take their chat's priority minus this: ahead of every other row.
BREAKING_AHEAD = 3


async def enqueue_article(
    session: AsyncSession,
    article_id: int,
    language: str,
    regions: Sequence[str],
    now: datetime,
    *,
    unmatched_to_all: bool = True,
    breaking: bool = False,
    among: ColumnElement[bool] | None = None,
    known_topics: Sequence[str] | None = None,
    fresh: bool = False,
) -> int:
    """Create one outbox row per matching destination, in one statement.

    A destination matches when it is active, not paused, in the article's language (a
    reader may follow several: :func:`bot.storage.editions.language_condition`),
    subscribed to one of its regions (or to all regions) and in instant mode. An
    article without regions goes to the destinations that take all regions, and with
    ``unmatched_to_all`` (``[outlet] unmatched = "all"``) to every destination of its
    language. A chat that chose topics or keywords gets only articles that match one
    (:func:`bot.storage.follows.follow_condition`; only topics among ``known_topics``,
    the catalog's, count as chosen). Rows for readers who are in their quiet hours right
    now are due when those end (``next_attempt_at``), decided in the same INSERT ... SELECT.

    Breaking news goes ahead of every queued delivery (priority lowered by
    :data:`BREAKING_AHEAD`), also to digest readers who kept breaking alerts on, and
    skips their quiet hours; in channels that pin breaking posts the row carries the
    time to unpin it. ``among`` narrows the destinations (one kind of chat, a range of
    ids: :mod:`bot.storage.fanout`; ``fresh``: none has a row yet). Returns the rows made.
    """
    chat = ChatRow.__table__.c
    wanted = await _wanted_destinations(session, article_id, language, breaking=breaking)
    # Quiet hours read among ``among`` alone: no second pass of the match's subqueries.
    scope = wanted if among is None else among
    due = await _due_after_quiet_hours(session, scope, now, breaking=breaking)
    wanted = wanted if among is None else and_(wanted, among)
    priority = chat.priority - BREAKING_AHEAD if breaking else chat.priority
    unpin = await _unpin_time(session, wanted, now) if breaking else literal(None, DateTime)
    chosen = select(
        literal(article_id), chat.id, literal("pending"), priority, literal(0), due,
        literal(now), literal(now), false(), unpin,
    ).where(
        and_(
            wanted,
            _region_match(regions, unmatched_to_all=unmatched_to_all, sqlite=is_sqlite(session)),
            await follow_condition(session, article_id, known_topics),
        )
    )  # fmt: skip
    return await _insert_chosen(session, chosen, fresh=fresh)


async def _insert_chosen(session: AsyncSession, chosen: Select[Any], *, fresh: bool) -> int:
    """INSERT ... SELECT the chosen rows (one statement), skipping those already queued
    (``ON CONFLICT DO NOTHING``) unless the caller knows there are none (``fresh``: a
    fan-out chunk that found none under its article's lock). A plain INSERT spares
    PostgreSQL a speculative insertion per row, about a third of a fan-out's time; the
    unique (article, chat) index holds either way (a row queued twice fails the statement).
    """
    stmt = insert_ignoring_conflicts(session, OutboxRow).from_select(
        list(_ENQUEUED_COLUMNS), chosen
    )
    if not fresh:
        stmt = stmt.on_conflict_do_nothing()
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


# The outbox columns :func:`enqueue_article` fills, in the order of its SELECT.
_ENQUEUED_COLUMNS = (
    "article_id",
    "chat_id",
    "state",
    "priority",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "plain_text",
    "unpin_at",
)


async def _wanted_destinations(
    session: AsyncSession, article_id: int, language: str, *, breaking: bool
) -> ColumnElement[bool]:
    """Active, unpaused chats of the article's language in instant mode (or, for breaking
    news, with breaking alerts kept on): the destinations before regions and follows."""
    chat = ChatRow.__table__.c
    mode = chat.mode == "instant"
    if breaking:
        mode = or_(mode, chat.breaking_alerts == true())
    return and_(
        chat.active == true(),
        chat.paused == false(),
        mode,
        await language_condition(session, article_id, language),
    )


def _region_match(
    regions: Sequence[str], *, unmatched_to_all: bool, sqlite: bool
) -> ColumnElement[bool]:
    """A chat subscribed to one of the article's regions or to all; an article without
    regions goes to every chat when ``unmatched_to_all``.

    SQLite finds a chat's few regions by its id alone and filters them
    (:func:`bot.storage.planner.unindexed`): searching its primary key once per region
    of the ``IN`` list, per chat, cost half a second more per million chats
    (``bench/enqueue.py``).
    """
    chat = ChatRow.__table__.c
    region_match = exists().where(ChatRegionRow.chat_id == chat.id)
    if regions or not unmatched_to_all:
        region = unindexed(ChatRegionRow.__table__.c.region, sqlite=sqlite)
        region_match = region_match.where(region.in_([*regions, ALL_REGIONS]))
    return region_match


async def _unpin_time(
    session: AsyncSession, wanted: ColumnElement[bool], now: datetime
) -> ColumnElement[datetime | None]:
    """``unpin_at`` for a breaking post: ``now`` plus the chat's ``pin_breaking_hours``
    for channels and groups that pin, else NULL (a CASE over the few distinct values)."""
    chat = ChatRow.__table__.c
    pins = and_(chat.kind != "private", chat.pin_breaking_hours > 0)
    hours = await session.scalars(select(chat.pin_breaking_hours).where(wanted, pins).distinct())
    whens = [
        (and_(pins, chat.pin_breaking_hours == h), literal(now + timedelta(hours=h), DateTime))
        for h in hours
    ]
    if not whens:
        return literal(None, DateTime)
    return case(*whens, else_=literal(None, DateTime))


async def _due_after_quiet_hours(
    session: AsyncSession, wanted: ColumnElement[bool], now: datetime, *, breaking: bool = False
) -> ColumnElement[datetime]:
    """``next_attempt_at`` for the enqueue: ``now``, or the end of the reader's quiet hours
    (``wanted``: the destinations, or any set of chats that holds them: a CASE branch
    that no chosen row meets costs nothing, and a chunk's range is read without the
    match's subqueries, a second pass over the chunk otherwise).

    Quiet hours depend on (time zone, start, end), and readers share few distinct
    combinations, so those are read first (one DISTINCT query) and the ones quiet at
    ``now`` become a CASE inside the INSERT ... SELECT: no second pass over the rows.
    Only private chats have quiet hours; channels and groups post at once. Breaking news
    waits only for readers who turned breaking alerts off.
    """
    chat = ChatRow.__table__.c
    private = and_(chat.kind == "private", chat.quiet_start.is_not(None))
    if breaking:
        private = and_(private, chat.breaking_alerts == false())
    groups = await session.execute(
        select(chat.timezone, chat.quiet_start, chat.quiet_end)
        .where(wanted, private, chat.quiet_end.is_not(None))
        .distinct()
    )
    whens = []
    for tz, start, end in groups.all():
        until = quiet_until(now, tz, start, end)
        if until is not None:
            match = and_(
                private, chat.timezone == tz, chat.quiet_start == start, chat.quiet_end == end
            )
            whens.append((match, literal(until, DateTime)))
    if not whens:
        return literal(now, DateTime)
    return case(*whens, else_=literal(now, DateTime))


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
    return {state: int(count) for state, count in rows}


async def drop_open_deliveries(session: AsyncSession, chat_pk: int, now: datetime, why: str) -> int:
    """Pending deliveries to a chat that no longer wants them are dropped, not sent."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == chat_pk, OutboxRow.state.in_(("pending", "retry")))
        .values(state="dropped", last_error=why, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---- backlog (metrics and the operators' /queue) ----


_NOT_PENDING_BACKLOG = tuple(s for s in BACKLOG_STATES if s != "pending")


async def backlog_counts(session: AsyncSession) -> dict[tuple[str, int], int]:
    """Open rows per (state, priority): pending and retry ones per priority from
    ``ix_outbox_claim``, the others from ``ix_outbox_state`` (which holds no pending row:
    pending = open - retry; the two reads may straddle a claim, so never below 0)."""
    others = await session.execute(
        select(OutboxRow.state, OutboxRow.priority, func.count())
        .where(OutboxRow.state.in_(_NOT_PENDING_BACKLOG), not_pending())
        .group_by(OutboxRow.state, OutboxRow.priority)
    )
    counts = {(state, int(priority)): int(count) for state, priority, count in others}
    due = await session.execute(
        select(OutboxRow.priority, func.count())
        .where(text(DUE_CONDITION))
        .group_by(OutboxRow.priority)
    )
    for priority, count in due:
        pending = int(count) - counts.get(("retry", int(priority)), 0)
        if pending > 0:
            counts[("pending", int(priority))] = pending
    return counts


def _open_rows() -> ColumnElement[bool]:
    """Rows of :data:`BACKLOG_STATES`, said so that each partial index serves its part."""
    in_flight = tuple(s for s in _NOT_PENDING_BACKLOG if s not in DUE_STATES)
    return or_(text(DUE_CONDITION), and_(OutboxRow.state.in_(in_flight), not_pending()))


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-waiting row that is due now became due (None: nothing is due).
    A sender that stalls shows here first: the backlog may be small, but it ages."""
    due: datetime | None = await session.scalar(
        select(func.min(OutboxRow.next_attempt_at)).where(
            text(DUE_CONDITION), OutboxRow.next_attempt_at <= now
        )
    )
    return due


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """The full picture for ``/queue`` (a few aggregate queries; not for hot paths)."""
    open_rows = _open_rows()
    due_now = await session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .where(open_rows, OutboxRow.next_attempt_at <= now)
    )
    next_later = await session.scalar(
        select(func.min(OutboxRow.next_attempt_at)).where(
            text(DUE_CONDITION), OutboxRow.next_attempt_at > now
        )
    )
    per_chat = (
        select(ChatRow.kind.label("kind"), func.count().label("n"))
        .select_from(OutboxRow)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(open_rows)
        .group_by(OutboxRow.chat_id, ChatRow.kind)
        .subquery()
    )
    busiest_private = busiest_group = 0
    for kind, most in await session.execute(
        select(per_chat.c.kind, func.max(per_chat.c.n)).group_by(per_chat.c.kind)
    ):
        if kind == "private":
            busiest_private = max(busiest_private, int(most or 0))
        else:
            busiest_group = max(busiest_group, int(most or 0))
    finished = {
        state: int(count)
        for state, count in await session.execute(
            select(OutboxRow.state, func.count())
            .where(OutboxRow.state.in_(("unknown", "dead")), not_pending())
            .group_by(OutboxRow.state)
        )
    }
    return Backlog(
        by_state=await backlog_counts(session),
        due_now=int(due_now or 0),
        next_later=next_later,
        busiest_private=busiest_private,
        busiest_group=busiest_group,
        unknown=finished.get("unknown", 0),
        dead=finished.get("dead", 0),
    )


# ---- pins of breaking posts ----


async def due_unpins(
    session: AsyncSession, now: datetime, waiting: Sequence[str], limit: int
) -> list[tuple[int, str, int | None, str]]:
    """Posts whose pin is due to end: (row id, state, message id, chat address), the
    longest due first; rows still in one of the ``waiting`` states are left for later."""
    rows = await session.execute(
        select(OutboxRow.id, OutboxRow.state, OutboxRow.message_id, ChatRow.address)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.unpin_at <= now, OutboxRow.state.not_in(list(waiting)))
        .order_by(OutboxRow.unpin_at)
        .limit(limit)
    )
    return [(row_id, state, mid, address) for row_id, state, mid, address in rows.all()]


async def set_unpin_time(session: AsyncSession, row_id: int, at: datetime | None) -> None:
    """When the post's pin ends (None: nothing left to unpin)."""
    await session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(unpin_at=at))
