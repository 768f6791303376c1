"""The deliveries aggregate: what Telegram answered becomes the row's next state.

A retry waits its backoff, a chat gone is deactivated (a channel paused) and its open rows
dropped, a migrated group is followed to its new address and the row resent there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.queue import (
    MAX_ATTEMPTS,
    OPEN_STATES,
    Applied,
    ChatGone,
    Dead,
    Delivery,
    Migrated,
    Outcome,
    ResendAsPlainText,
    ResendWithoutPhoto,
    Retry,
    Sent,
    Skipped,
    Unknown,
    backoff_seconds,
)
from bot.storage.models import ChatRow, OutboxRow

_OUTBOX = cast(Table, OutboxRow.__table__)  # a Table; the stubs say FromClause


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
            changes, applied = _retry(delivery, err, after, now, jitter)
            values.update(changes)
        case Unknown(error=err):
            values.update(state="unknown", last_error=err)
            applied = Applied("unknown")
        case Dead(error=err):
            values.update(state="dead", last_error=err)
            applied = Applied("dead")
        case ResendAsPlainText(error=err):
            changes, applied = _resend_as_plain_text(delivery, err, now)
            values.update(changes)
        case ResendWithoutPhoto(error=err):
            values.update(state="pending", no_photo=True, last_error=err, next_attempt_at=now)
            applied = Applied("retry")
        case Skipped(error=err):
            values.update(state="dropped", last_error=err)
            applied = Applied("dropped")
        case ChatGone(error=err):
            values.update(state="dropped", last_error=err)
            dropped = await close_chat(session, delivery.chat_pk, now, err, sending=delivery.id)
            applied = Applied("dropped", chat_deactivated=True, dropped=dropped)
        case Migrated(new_address=new):
            values.update(await _follow(session, delivery, new, now))
            applied = Applied(str(values["state"]))
    await session.execute(update(_OUTBOX).where(_OUTBOX.c.id == delivery.id).values(**values))
    return applied


def _retry(
    delivery: Delivery, err: str, after: float | None, now: datetime, jitter: float
) -> tuple[dict[str, object], Applied]:
    """A retry waits Telegram's ``retry_after`` or its backoff; past the last attempt the
    row is dead."""
    if delivery.attempts + 1 >= MAX_ATTEMPTS:
        return {"state": "dead", "last_error": f"gave up after retries: {err}"}, Applied("dead")
    wait = after if after is not None else backoff_seconds(delivery.attempts + 1, jitter)
    changes: dict[str, object] = {
        "state": "retry",
        "last_error": err,
        "next_attempt_at": now + timedelta(seconds=wait),
    }
    return changes, Applied("retry")


def _resend_as_plain_text(
    delivery: Delivery, err: str, now: datetime
) -> tuple[dict[str, object], Applied]:
    """Telegram refused the formatting: resend once as plain text; a row already sent
    plain is dead."""
    if delivery.plain_text:
        return {"state": "dead", "last_error": err}, Applied("dead")
    changes: dict[str, object] = {
        "state": "pending",
        "plain_text": True,
        "last_error": err,
        "next_attempt_at": now,
    }
    return changes, Applied("retry")


async def close_chat(
    session: AsyncSession, chat_pk: int, now: datetime, err: str, *, sending: int | None = None
) -> int:
    """A chat Telegram says is gone (403, kicked, no rights): private chats are deactivated;
    channels and groups are paused with settings kept. Its open rows other than ``sending``
    (the one whose answer said so, recorded by the caller) are dropped; returns how many.
    Posts and a channel admin's test post share it."""
    chat = await session.get(ChatRow, chat_pk)
    if chat is not None:
        if chat.kind == "private":
            chat.active = False
        else:
            chat.paused = True
        chat.updated_at = now
    still_open = [OutboxRow.chat_id == chat_pk, OutboxRow.state.in_(OPEN_STATES)]
    if sending is not None:
        still_open.append(OutboxRow.id != sending)
    result = await session.execute(
        update(OutboxRow)
        .where(*still_open)
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
