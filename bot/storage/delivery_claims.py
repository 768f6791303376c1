"""The deliveries aggregate, the sender's side: reserve due rows, mark a wave in flight,
record a send, give back what was not fired, recover after a crash.

The statements are built once on the table (Core), not on the ORM class: an ORM-enabled
UPDATE costs several times more CPU per call, and these run a few times a second for
every wave of a broadcast (DESIGN.md "cost"). The row's life is told in ``bot.outbox.queue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Table, Update, and_, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.queue import Delivery, Sent
from bot.storage.delivery_kinds import reserved_messages
from bot.storage.models import DUE_CONDITION, ArticleRow, ChatRow, OutboxRow, not_pending

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
    deliveries = [post_delivery(row, order) for row in rows]
    if len(deliveries) < len(ids):  # other kinds than posts (bot.outbox.kinds)
        deliveries += [
            message_delivery(row, order) for row in await reserved_messages(session, ids)
        ]
        deliveries.sort(key=lambda d: order[d.id])
    return deliveries


def post_delivery(row: Any, order: dict[int, tuple[int, datetime, int]]) -> Delivery:
    """A reserved post: an article to a destination (``_RESERVED_ROWS``' columns, in order;
    ``bot.storage.direct_claims`` reads the same)."""
    (oid, attempts, plain, article_id, chat_pk, address, thread, kind, language, hide) = row[:10]
    (title, url, summary, regions, alternates, image_url, breaking, photos) = row[10:18]
    (link_preview, silent, no_photo, unpin_at, priority, due) = row[18:]
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


def message_delivery(row: Any, order: dict[int, tuple[int, datetime, int]]) -> Delivery:
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


# PostgreSQL: a burst's sends in one statement over arrays, where an executemany of
# ``_SENT`` would have the server plan and run one UPDATE per row.
_SENT_ARRAYS = text(
    "UPDATE outbox SET state = 'sent', message_id = v.mid, photo = v.photo,"
    " attempts = outbox.attempts + 1, updated_at = :now, last_error = NULL"
    " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:mids AS BIGINT[]), CAST(:photos AS BOOLEAN[]))"
    " AS v(id, mid, photo) WHERE outbox.id = v.id"
).bindparams(bindparam("now", type_=_OUTBOX.c.updated_at.type))


async def record_sent(
    session: AsyncSession, sent: Sequence[tuple[int, Sent]], now: datetime
) -> None:
    """The common outcome, (row id, what Telegram answered) pairs, in one statement
    (PostgreSQL) or one executemany (SQLite)."""
    if not sent:
        return
    if session.get_bind().dialect.name == "postgresql":
        ids = [row_id for row_id, _ in sent]
        mids = [s.message_id for _, s in sent]
        photos = [s.photo for _, s in sent]
        await session.execute(
            _SENT_ARRAYS, {"ids": ids, "mids": mids, "photos": photos, "now": now}
        )
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
        .where(OutboxRow.state == "inflight", not_pending())
        .group_by(ChatRow.kind)
    )
    return {kind: int(count) for kind, count in rows}


async def recover_after_crash(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """At sender start: reserved rows go back to pending; in-flight rows become unknown."""
    back = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "claimed", not_pending())
        .values(state="pending", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    lost = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "inflight", not_pending())
        .values(
            state="unknown",
            updated_at=now,
            last_error="process stopped while the request was in flight",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(back, "rowcount", 0) or 0), int(getattr(lost, "rowcount", 0) or 0)


async def claim_probe(session: AsyncSession, before: object) -> int | None:
    """Id of one row that will be due before ``before``, if any (no reservation): a due
    row from ``ix_outbox_claim``, else a reserved one from ``ix_outbox_state``."""
    for states in (text(DUE_CONDITION), and_(OutboxRow.state == "claimed", not_pending())):
        row: int | None = await session.scalar(
            select(OutboxRow.id).where(states, OutboxRow.next_attempt_at <= before).limit(1)
        )
        if row is not None:
            return row
    return None
