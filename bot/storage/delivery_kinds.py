"""The deliveries aggregate, other kinds: queue digests, weekly lists, alerts, edits,
deletions and pins as outbox rows, and read what the sender needs of them.

The kinds themselves, their priorities and what each means are ``bot.outbox.kinds``; each
row is queued in the transaction that decides it (a digest with its day's claim, an edit
with the correction, a pin with its post's outcome).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.kinds import ALERT, DELETE, EDIT, EDITORS, PIN, POST, PRIORITY
from bot.storage.models import ArticleRow, ChatRow, OutboxRow

_OPEN_TARGETED = ("pending", "retry")
#: Outbox states of a post being sent now: an edit of it waits for the message id.
SENDING_STATES = ("claimed", "inflight")
_OUTBOX = cast(Table, OutboxRow.__table__)
_CHATS = cast(Table, ChatRow.__table__)
_ARTICLES = cast(Table, ArticleRow.__table__)
_TARGET = _OUTBOX.alias("target")
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)

#: What the sender needs of reserved rows of these kinds: the chat, and for edits,
#: deletions and pins the post's message and its article as it is now.
RESERVED_MESSAGES = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.attempts,
        _OUTBOX.c.plain_text,
        _OUTBOX.c.kind,
        _OUTBOX.c.body,
        _OUTBOX.c.priority,
        _OUTBOX.c.next_attempt_at,
        _CHATS.c.id,
        _CHATS.c.address,
        _CHATS.c.thread_id,
        _CHATS.c.kind,
        _CHATS.c.language,
        _CHATS.c.hide_appeals,
        _TARGET.c.message_id,
        _TARGET.c.state,
        _TARGET.c.photo,
        _TARGET.c.plain_text,
        _ARTICLES.c.id,
        _ARTICLES.c.title,
        _ARTICLES.c.url,
        _ARTICLES.c.summary,
        _ARTICLES.c.regions,
        _ARTICLES.c.alternates,
        _ARTICLES.c.image_url,
        _ARTICLES.c.breaking,
    )
    .join_from(_OUTBOX, _CHATS, _CHATS.c.id == _OUTBOX.c.chat_id)
    .outerjoin(_TARGET, _TARGET.c.id == _OUTBOX.c.target_id)
    .outerjoin(_ARTICLES, _ARTICLES.c.id == _TARGET.c.article_id)
    .where(_OUTBOX.c.id.in_(_IDS), _OUTBOX.c.kind != POST)
)


async def reserved_messages(session: AsyncSession, ids: Sequence[int]) -> Sequence[Any]:
    """The rows of :data:`RESERVED_MESSAGES` for these reserved ids (posts are left out)."""
    return (await session.execute(RESERVED_MESSAGES, {"ids": list(ids)})).all()


async def enqueue_texts(
    session: AsyncSession,
    chat_pk: int,
    kind: str,
    texts: Sequence[str],
    now: datetime,
    *,
    plain: bool = False,
) -> int:
    """Queue ready messages to one chat, in order (a digest split in parts keeps its
    order: each part is due a microsecond after the one before)."""
    if not texts:
        return 0
    await session.execute(
        insert(OutboxRow),
        [
            _row(chat_pk, kind, now + timedelta(microseconds=n), now, body=text, plain=plain)
            for n, text in enumerate(texts)
        ],
    )
    return len(texts)


async def enqueue_on_posts(
    session: AsyncSession, kind: str, post_ids: Sequence[int], now: datetime
) -> int:
    """Queue an edit or a deletion of each post's message (its chat's priority).

    A post whose edit or deletion is still waiting gets no second row: the waiting one
    takes this kind and is due now (an edit renders the article as it is when it
    leaves, so one edit serves any number of corrections). One that already left (in
    flight) was rendered before this change: a new row follows it.
    """
    if not post_ids:
        return 0
    waiting = set(
        await session.scalars(
            select(OutboxRow.target_id).where(
                OutboxRow.target_id.in_(list(post_ids)),
                OutboxRow.kind.in_((EDIT, DELETE)),
                OutboxRow.state.in_(_OPEN_TARGETED),
            )
        )
    )
    if waiting:
        await session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.target_id.in_(waiting),
                OutboxRow.kind.in_((EDIT, DELETE)),
                OutboxRow.state.in_(_OPEN_TARGETED),
            )
            .values(kind=kind, state="pending", attempts=0, next_attempt_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    fresh = [pid for pid in post_ids if pid not in waiting]
    if fresh:
        posts = await session.execute(
            select(OutboxRow.id, OutboxRow.chat_id, ChatRow.priority)
            .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
            .where(OutboxRow.id.in_(fresh))
        )
        await session.execute(
            insert(OutboxRow),
            [
                _row(chat, kind, now, now, target=pid, priority=priority)
                for pid, chat, priority in posts
            ],
        )
    return len(post_ids)


async def posts_to_change(session: AsyncSession, article_id: int) -> list[int]:
    """The article's posts whose message an edit or deletion acts on: sent with a
    message id, or being sent right now (:data:`SENDING_STATES`: rendered from the old
    text, their edit waits for the message id)."""
    return list(
        await session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.article_id == article_id,
                OutboxRow.kind == POST,
                or_(
                    OutboxRow.state.in_(SENDING_STATES),
                    and_(OutboxRow.state == "sent", OutboxRow.message_id.is_not(None)),
                ),
            )
        )
    )


async def enqueue_pins(
    session: AsyncSession, posts: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Queue the pin of each (post row, chat) just sent: recorded in the transaction
    that records the post as sent, so a pin is neither lost nor doubled by a crash."""
    if posts:
        await session.execute(
            insert(OutboxRow), [_row(chat, PIN, now, now, target=pid) for pid, chat in posts]
        )


async def enqueue_alert(session: AsyncSession, address: str, text: str, now: datetime) -> None:
    """Queue an editors' alert (plain text, escaped into the HTML every text kind takes)."""
    chat = await editors_chat(session, address, now)
    await enqueue_texts(session, chat, ALERT, [html.escape(text)], now)


async def editors_chat(session: AsyncSession, address: str, now: datetime) -> int:
    """The chat row alerts go to: the row made for the editors' chat (found by the
    configured address it keeps as its title, so a migration it followed is kept), else
    the row of that chat when it is also a channel or reader, else a new row, inactive
    so that no post, digest or list is ever queued there."""
    pk = await session.scalar(
        select(ChatRow.id).where(ChatRow.origin == EDITORS, ChatRow.title == address)
    )
    if pk is None:
        pk = await session.scalar(
            select(ChatRow.id).where(ChatRow.address == address, ChatRow.thread_id == 0)
        )
    if pk is not None:
        return pk
    private = not address.startswith(("-", "@"))  # users' ids are positive
    row = ChatRow(
        address=address,
        thread_id=0,
        kind="private" if private else "group",
        title=address,
        language="en",
        origin=EDITORS,
        active=False,
        paused=False,
        mode="instant",
        priority=PRIORITY[ALERT],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


def _row(
    chat_pk: int,
    kind: str,
    due: datetime,
    now: datetime,
    *,
    body: str | None = None,
    target: int | None = None,
    priority: int | None = None,
    plain: bool = False,
) -> dict[str, object]:
    return {
        "article_id": None,
        "chat_id": chat_pk,
        "kind": kind,
        "body": body,
        "target_id": target,
        "state": "pending",
        "priority": PRIORITY.get(kind, 2) if priority is None else priority,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
        "updated_at": now,
        "plain_text": plain,
        "no_photo": False,
        "photo": False,
    }
