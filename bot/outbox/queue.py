"""The durable send queue: claiming due deliveries and recording what happened.

Life of a row (DESIGN.md decisions 1-2):

    pending/retry --claim--> inflight --outcome--> sent | retry | unknown | dead | dropped
              (or --claim--> claimed, only reserved)

The sender reserves a batch as ``claimed`` and marks each wave ``inflight`` in the
transaction just before it leaves, so a crash turns at most that wave into ``unknown``:
those rows are never re-sent, because a duplicate post is worse than a rare miss.
``claimed`` rows are only reserved; a crash puts them back to pending. Rows the sender
could not fire are given back (``release``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, Table, Update, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.kinds import POST, reserved_messages
from bot.storage.models import DUE_CONDITION, ArticleRow, ChatRow, OutboxRow

DUE_STATES = ("pending", "retry")

# The sender's statements, built once on the table (Core), not on the ORM class: an
# ORM-enabled UPDATE costs several times more CPU per call, and these run a few times a
# second for every wave of a broadcast (DESIGN.md "cost").
_OUTBOX = cast(Table, OutboxRow.__table__)  # a Table; the stubs say FromClause
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_RELEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(_IDS), _OUTBOX.c.state.in_(("claimed", "inflight")))
    .values(state="pending", next_attempt_at=bindparam("at"), updated_at=bindparam("at"))
)
_INFLIGHT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(_IDS), _OUTBOX.c.state == "claimed")
    .values(state="inflight", updated_at=bindparam("at"))
    .returning(_OUTBOX.c.id)
)
_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        state="sent",
        message_id=bindparam("mid"),
        photo=bindparam("photo"),
        attempts=_OUTBOX.c.attempts + 1,
        updated_at=bindparam("now"),
        last_error=None,
    )
)


def _reserve(locking: bool) -> Update:
    """Mark the next ``limit`` due rows (channels first, oldest first) and return their ids.

    The rows are read from the partial index ``ix_outbox_claim`` in order, so the cost does
    not grow with the backlog; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two senders
    from reserving the same row even outside leadership.
    """
    o = _OUTBOX.c
    now: BindParameter[datetime] = bindparam("now")
    due = (
        select(o.id)
        .where(text(DUE_CONDITION), o.next_attempt_at <= now)
        .order_by(o.priority, o.next_attempt_at, o.id)
        .limit(bindparam("limit"))
    )
    if locking:
        due = due.with_for_update(skip_locked=True)
    return (
        update(_OUTBOX)
        .where(o.id.in_(due.scalar_subquery()))
        .values(state=bindparam("state"), updated_at=now)
        .returning(o.id)
    )


_RESERVE = _reserve(locking=False)
_RESERVE_LOCKED = _reserve(locking=True)
_CHATS = cast(Table, ChatRow.__table__)
_ARTICLES = cast(Table, ArticleRow.__table__)
# What a post needs of each reserved row, its chat and its article, in sending order.
_RESERVED_ROWS = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.attempts,
        _OUTBOX.c.plain_text,
        _OUTBOX.c.article_id,
        _CHATS.c.id,
        _CHATS.c.address,
        _CHATS.c.thread_id,
        _CHATS.c.kind,
        _CHATS.c.language,
        _CHATS.c.hide_appeals,
        _ARTICLES.c.title,
        _ARTICLES.c.url,
        _ARTICLES.c.summary,
        _ARTICLES.c.regions,
        _ARTICLES.c.alternates,
        _ARTICLES.c.image_url,
        _ARTICLES.c.breaking,
        _CHATS.c.photos,
        _CHATS.c.link_preview,
        _CHATS.c.silent_at_night,
        _OUTBOX.c.no_photo,
        _OUTBOX.c.unpin_at,
        _OUTBOX.c.priority,
        _OUTBOX.c.next_attempt_at,
    )
    .join_from(_OUTBOX, _CHATS, _CHATS.c.id == _OUTBOX.c.chat_id)
    .join(_ARTICLES, _ARTICLES.c.id == _OUTBOX.c.article_id)
    .where(_OUTBOX.c.id.in_(_IDS))
    .order_by(_OUTBOX.c.priority, _OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
)
OPEN_STATES = ("pending", "retry", "claimed")
MAX_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class Delivery:
    """Everything needed to render and send one outbox row (a post, or another kind:
    ``bot.outbox.kinds``)."""

    id: int
    attempts: int
    plain_text: bool
    chat_pk: int
    address: str
    thread_id: int
    chat_kind: str
    chat_language: str
    article_id: int
    title: str
    url: str
    summary: str
    regions: tuple[str, ...]
    hide_appeals: bool = False  # the reader hid donation appeals
    alternates: str = ""  # the article's other language versions, JSON [[language, url], ...]
    image_url: str = ""  # the article's lead image, "" when none
    breaking: bool = False
    photos: bool = False  # the chat takes posts as photos (channels and groups that allow it)
    no_photo: bool = False  # Telegram refused the image once: text only
    link_preview: str = "auto"  # auto | off | small | large | above
    silent_at_night: bool = False
    pin: bool = False  # a breaking post this chat pins
    sent_as_photo: bool = False  # for corrections: the message is a photo with a caption
    kind: str = POST  # post | digest | weekly | alert | edit | delete | pin
    body: str = ""  # the ready text of a digest, a weekly list or an alert
    target_message_id: int | None = None  # the message an edit, deletion or pin acts on
    target_state: str = ""  # that post's outbox state ("" when it is no longer stored)

    @property
    def chat_key(self) -> str:
        return f"{self.address}:{self.thread_id}"


# ---- outcomes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None
    photo: bool = False  # sent as a photo with a caption (corrections edit the caption)


@dataclass(frozen=True, slots=True)
class Retry:
    """Not delivered and safe to try again (Telegram said so, or nothing was sent)."""

    error: str
    after: float | None = None  # seconds; None = exponential backoff
    pause_all: bool = False  # a 429: every send waits ``after``


@dataclass(frozen=True, slots=True)
class Unknown:
    """The request may have reached Telegram but no answer came: never re-sent."""

    error: str


@dataclass(frozen=True, slots=True)
class Dead:
    """Permanently refused for this message (bad request): reported to editors."""

    error: str


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The chat blocked us, was deleted or kicked us: stop sending there."""

    error: str


@dataclass(frozen=True, slots=True)
class Migrated:
    """A group became a supergroup: continue at ``new_address``."""

    new_address: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing left to do: the message to edit is unchanged or gone, or was never sent."""

    error: str


@dataclass(frozen=True, slots=True)
class ResendAsPlainText:
    """Telegram could not parse our HTML: send once more as plain text, and report."""

    error: str


@dataclass(frozen=True, slots=True)
class ResendWithoutPhoto:
    """Telegram could not fetch or use the lead image: send once more as text."""

    error: str


Outcome = (
    Sent
    | Retry
    | Unknown
    | Dead
    | ChatGone
    | Migrated
    | ResendAsPlainText
    | ResendWithoutPhoto
    | Skipped
)


def backoff_seconds(attempts: int, jitter: float) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds (capped at 10 min), with jitter in [0, 1)."""
    base: float = min(600.0, 2.0 ** max(1, attempts))
    return base * (0.75 + 0.5 * jitter)


# ---- queries ------------------------------------------------------------------------------


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, *, state: str = "claimed"
) -> list[Delivery]:
    """Reserve up to ``limit`` due rows, channels first, oldest first.

    The sender reserves them straight as ``inflight`` (it fires the whole batch within a
    second and gives back what it could not send); ``claimed`` is the cautious default.
    Both statements are built once (``_RESERVE``, ``_RESERVED_ROWS``): building them per
    call cost a tenth of the sender's CPU at 30 messages a second.
    """
    locking = session.get_bind().dialect.name == "postgresql"
    reserve = _RESERVE_LOCKED if locking else _RESERVE
    params = {"now": now, "limit": limit, "state": state}
    ids = list(await session.scalars(reserve, params))
    if not ids:
        return []
    rows = (await session.execute(_RESERVED_ROWS, {"ids": ids})).all()
    order: dict[int, tuple[int, datetime, int]] = {}
    deliveries = [_post(row, order) for row in rows]
    if len(deliveries) < len(ids):  # other kinds than posts (bot.outbox.kinds)
        deliveries += [_message(row, order) for row in await reserved_messages(session, ids)]
        deliveries.sort(key=lambda d: order[d.id])
    return deliveries


def _post(row: Any, order: dict[int, tuple[int, datetime, int]]) -> Delivery:
    (
        oid,
        attempts,
        plain,
        article_id,
        chat_pk,
        address,
        thread,
        kind,
        language,
        hide,
        title,
        url,
        summary,
        regions,
        alternates,
        image_url,
        breaking,
        photos,
        link_preview,
        silent,
        no_photo,
        unpin_at,
        priority,
        due,
    ) = row
    order[oid] = (priority, due, oid)
    return Delivery(
        id=oid,
        attempts=attempts,
        plain_text=bool(plain),
        chat_pk=chat_pk,
        address=address,
        thread_id=thread,
        chat_kind=kind,
        chat_language=language,
        article_id=article_id,
        title=title,
        url=url,
        summary=summary,
        regions=tuple(regions.split()) if regions else (),
        hide_appeals=bool(hide),
        alternates=alternates or "",
        image_url=image_url or "",
        breaking=bool(breaking),
        photos=bool(photos) and kind != "private",
        no_photo=bool(no_photo),
        link_preview=link_preview or "auto",
        silent_at_night=bool(silent),
        pin=unpin_at is not None,
    )


def _message(row: Any, order: dict[int, tuple[int, datetime, int]]) -> Delivery:
    """A reserved row of another kind (``bot.outbox.kinds.RESERVED_MESSAGES``)."""
    (oid, attempts, plain, kind, body, priority, due) = row[:7]
    (chat_pk, address, thread, chat_kind, language, hide) = row[7:13]
    (message_id, target_state, photo, target_plain) = row[13:17]
    (article_id, title, url, summary, regions, alternates, image_url, breaking) = row[17:]
    order[oid] = (priority, due, oid)
    return Delivery(
        id=oid,
        attempts=attempts,
        plain_text=bool(plain) or bool(target_plain),
        chat_pk=chat_pk,
        address=address,
        thread_id=thread,
        chat_kind=chat_kind,
        chat_language=language,
        article_id=article_id or 0,
        title=title or "",
        url=url or "",
        summary=summary or "",
        regions=tuple(regions.split()) if regions else (),
        hide_appeals=bool(hide),
        alternates=alternates or "",
        image_url=image_url or "",
        breaking=bool(breaking),
        sent_as_photo=bool(photo),
        kind=kind,
        body=body or "",
        target_message_id=message_id,
        target_state=target_state or "",
    )


async def mark_inflight(session: AsyncSession, ids: Sequence[int], at: datetime) -> set[int]:
    """Reserved rows about to leave become ``inflight``; returns those that still were
    reserved (a row dropped meanwhile, its chat gone, must not be sent)."""
    if not ids:
        return set()
    return set(await session.scalars(_INFLIGHT, {"ids": list(ids), "at": at}))


async def record_sent(
    session: AsyncSession, sent: Sequence[tuple[int, Sent]], now: datetime
) -> None:
    """The common outcome in one executemany: (row id, what Telegram answered) pairs."""
    if not sent:
        return
    await session.execute(
        _SENT,
        [
            {"row_id": row_id, "mid": s.message_id, "photo": s.photo, "now": now}
            for row_id, s in sent
        ],
    )


async def release(session: AsyncSession, ids: Sequence[int], at: datetime) -> None:
    """Give reserved rows back (their chat is not ready yet): no attempt is counted."""
    if ids:
        await session.execute(_RELEASE, {"ids": list(ids), "at": at})


async def inflight_by_kind(session: AsyncSession) -> dict[str, int]:
    """In-flight rows per chat kind (read before recovery, to count the unknowns it makes)."""
    rows = await session.execute(
        select(ChatRow.kind, func.count())
        .select_from(OutboxRow)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.state == "inflight")
        .group_by(ChatRow.kind)
    )
    return {kind: int(count) for kind, count in rows}


async def recover_after_crash(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """At sender start: reserved rows go back to pending; in-flight rows become unknown."""
    back = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "claimed")
        .values(state="pending", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    lost = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "inflight")
        .values(
            state="unknown",
            updated_at=now,
            last_error="process stopped while the request was in flight",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(back, "rowcount", 0) or 0), int(getattr(lost, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Applied:
    """What recording an outcome changed, for metrics and alerts."""

    state: str
    chat_deactivated: bool = False
    dropped: int = 0


async def record_outcome(
    session: AsyncSession,
    delivery: Delivery,
    outcome: Outcome,
    now: datetime,
    jitter: float = 0.5,
) -> Applied:
    """Apply one outcome to its row (and its chat, when the chat is gone or moved)."""
    values: dict[str, object] = {"updated_at": now, "attempts": delivery.attempts + 1}
    applied: Applied
    match outcome:
        case Sent(message_id=mid, photo=photo):
            values.update(state="sent", message_id=mid, photo=photo, last_error=None)
            applied = Applied("sent")
        case Retry(error=err, after=after):
            if delivery.attempts + 1 >= MAX_ATTEMPTS:
                values.update(state="dead", last_error=f"gave up after retries: {err}")
                applied = Applied("dead")
            else:
                wait = (
                    after if after is not None else backoff_seconds(delivery.attempts + 1, jitter)
                )
                values.update(
                    state="retry", last_error=err, next_attempt_at=now + timedelta(seconds=wait)
                )
                applied = Applied("retry")
        case Unknown(error=err):
            values.update(state="unknown", last_error=err)
            applied = Applied("unknown")
        case Dead(error=err):
            values.update(state="dead", last_error=err)
            applied = Applied("dead")
        case ResendAsPlainText(error=err):
            if delivery.plain_text:
                values.update(state="dead", last_error=err)
                applied = Applied("dead")
            else:
                values.update(state="pending", plain_text=True, last_error=err, next_attempt_at=now)
                applied = Applied("retry")
        case ResendWithoutPhoto(error=err):
            values.update(state="pending", no_photo=True, last_error=err, next_attempt_at=now)
            applied = Applied("retry")
        case Skipped(error=err):
            values.update(state="dropped", last_error=err)
            applied = Applied("dropped")
        case ChatGone(error=err):
            values.update(state="dropped", last_error=err)
            dropped = await _close_chat(session, delivery, now, err)
            applied = Applied("dropped", chat_deactivated=True, dropped=dropped)
        case Migrated(new_address=new):
            values.update(await _follow(session, delivery, new, now))
            applied = Applied(str(values["state"]))
    await session.execute(update(_OUTBOX).where(_OUTBOX.c.id == delivery.id).values(**values))
    return applied


async def _close_chat(session: AsyncSession, delivery: Delivery, now: datetime, err: str) -> int:
    """Private chats are deactivated; channels and groups are paused with settings kept."""
    chat = await session.get(ChatRow, delivery.chat_pk)
    if chat is not None:
        if chat.kind == "private":
            chat.active = False
        else:
            chat.paused = True
        chat.updated_at = now
    result = await session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.chat_id == delivery.chat_pk,
            OutboxRow.state.in_(OPEN_STATES),
            OutboxRow.id != delivery.id,
        )
        .values(state="dropped", last_error=f"chat gone: {err}", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _follow(
    session: AsyncSession, delivery: Delivery, new_address: str, now: datetime
) -> dict[str, object]:
    """A migrated group: the row goes again, now, to the supergroup (no attempt counted).

    When the supergroup is a chat known already, the row moves to it (a post it has
    already is not queued twice): sent again to the old group, it would loop.
    """
    again: dict[str, object] = {
        "state": "pending",
        "next_attempt_at": now,
        "attempts": delivery.attempts,
    }
    known = await _move_chat(session, delivery.chat_pk, new_address, now)
    if known is None:
        return again
    if delivery.kind == "post" and await session.scalar(
        select(OutboxRow.id).where(
            OutboxRow.article_id == delivery.article_id, OutboxRow.chat_id == known
        )
    ):
        return {"state": "dropped", "last_error": f"migrated to {new_address}, already queued"}
    return {**again, "chat_id": known}


async def _move_chat(
    session: AsyncSession, chat_pk: int, new_address: str, now: datetime
) -> int | None:
    """Rename the chat to its supergroup's id; returns the id of another chat row that
    has that address already (the chat is then left as it is), else None."""
    chat = await session.get(ChatRow, chat_pk)
    if chat is None:
        return None
    clash = await session.scalar(
        select(ChatRow.id).where(
            ChatRow.address == new_address, ChatRow.thread_id == chat.thread_id
        )
    )
    if clash is None:
        chat.address = new_address
        chat.kind = "supergroup"
        chat.updated_at = now
    return clash


# ---- backlog (metrics and the operators' /queue) -------------------------------------------

BACKLOG_STATES = ("pending", "retry", "claimed", "inflight")


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is still to send, for operators: counts, timing and the busiest chats."""

    by_state: dict[tuple[str, int], int]  # (state, priority) -> rows not yet finished
    due_now: int  # open rows whose time has come
    next_later: datetime | None  # when the first row scheduled for later becomes due
    busiest_private: int  # most open rows waiting for one private chat
    busiest_group: int  # most open rows waiting for one group or channel
    unknown: int  # rows whose fate is unknown (all time)
    dead: int  # dead letters (all time)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


async def backlog_counts(session: AsyncSession) -> dict[tuple[str, int], int]:
    """Open rows per (state, priority): one index range scan on ``ix_outbox_due``."""
    rows = await session.execute(
        select(OutboxRow.state, OutboxRow.priority, func.count())
        .where(OutboxRow.state.in_(BACKLOG_STATES))
        .group_by(OutboxRow.state, OutboxRow.priority)
    )
    return {(state, int(priority)): int(count) for state, priority, count in rows}


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-waiting row that is due now became due (None: nothing is due).
    A sender that stalls shows here first: the backlog may be small, but it ages."""
    due: datetime | None = await session.scalar(
        select(func.min(OutboxRow.next_attempt_at)).where(
            OutboxRow.state.in_(DUE_STATES), OutboxRow.next_attempt_at <= now
        )
    )
    return due


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """The full picture for ``/queue`` (a few aggregate queries; not for hot paths)."""
    open_rows = OutboxRow.state.in_(BACKLOG_STATES)
    due_now = await session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .where(open_rows, OutboxRow.next_attempt_at <= now)
    )
    next_later = await session.scalar(
        select(func.min(OutboxRow.next_attempt_at)).where(
            OutboxRow.state.in_(DUE_STATES), OutboxRow.next_attempt_at > now
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
            .where(OutboxRow.state.in_(("unknown", "dead")))
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
