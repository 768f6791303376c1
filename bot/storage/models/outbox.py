"""The outbox and the send path's bookkeeping: budget, replies and the update inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base

# Rows the sender may claim. Written out literally (not as bound parameters) so that the
# database can prove a query's condition matches the partial index ``ix_outbox_claim``.
DUE_CONDITION = "state IN ('pending', 'retry')"
# Rows in ``ix_outbox_state``: every state but pending (a fan-out's million new rows, read
# from ``ix_outbox_claim`` instead). Queries for other states carry it literally too
# (:func:`not_pending`): SQLite uses a partial index only for a query that names its
# condition, as PostgreSQL would prove it from ``state IN (...)`` alone.
NOT_PENDING = "state <> 'pending'"


def not_pending() -> ColumnElement[bool]:
    """The condition of ``ix_outbox_state``, to AND with a query on states other than
    pending so that both databases read them from it."""
    return literal_column(NOT_PENDING)


class OutboxRow(Base):
    """One message to Telegram (DESIGN.md decision 1): a post (an article to a
    destination), or another kind (``bot.outbox.kinds``): a digest, a weekly list or an editors'
    alert carries its text in ``body``; an edit, a deletion or a pin acts
    on the post ``target_id``.

    State machine: pending -> inflight -> sent | retry | unknown | dead | dropped;
    retry -> inflight again when ``next_attempt_at`` is due.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # None for kinds other than posts: the unique (article, chat) pair holds for posts only.
    # No foreign keys: they cost about 40 % of each row a million-reader fan-out writes
    # (migration 0025). Nothing deletes articles or chats; whatever does deletes their
    # outbox rows with them (``bot.storage.forget``).
    article_id: Mapped[int | None] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="post", server_default="post")
    body: Mapped[str | None] = mapped_column(Text)  # the ready text of a digest, list, alert
    # The post an edit, a deletion or a pin acts on (no foreign key: a post pruned by
    # retention leaves its late edit nothing to do, which the sender records as such).
    target_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    plain_text: Mapped[bool] = mapped_column(Boolean, default=False)
    # Telegram refused the lead image: the post goes out as text (no second try with it).
    no_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The message went out as a photo (a correction edits its caption, not its text).
    photo: Mapped[bool] = mapped_column(Boolean, default=False)
    # A pinned breaking post is unpinned at this time (None: nothing to unpin).
    unpin_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("article_id", "chat_id", name="uq_outbox_article_chat"),
        # Rows being sent, unknown, failed or finished (not the pending ones: migration 0026).
        Index(
            "ix_outbox_state",
            "state",
            "priority",
            "next_attempt_at",
            sqlite_where=text(NOT_PENDING),
            postgresql_where=text(NOT_PENDING),
        ),
        Index("ix_outbox_chat", "chat_id"),
        # The sender's claim reads rows due in (priority, time) order from this index and
        # stops after one batch, however large the backlog; it holds open rows only.
        Index(
            "ix_outbox_claim",
            "priority",
            "next_attempt_at",
            "id",
            sqlite_where=text(DUE_CONDITION),
            postgresql_where=text(DUE_CONDITION),
        ),
        # The unpin job reads the few pinned rows only.
        Index(
            "ix_outbox_unpin",
            "unpin_at",
            sqlite_where=text("unpin_at IS NOT NULL"),
            postgresql_where=text("unpin_at IS NOT NULL"),
        ),
        # A correction finds the open edit of a post (edits and pins only).
        Index(
            "ix_outbox_target",
            "target_id",
            sqlite_where=text("target_id IS NOT NULL"),
            postgresql_where=text("target_id IS NOT NULL"),
        ),
    )


class SendBudgetRow(Base):
    """Sends granted per 20 ms slot by the database server's clock, per process (``owner``),
    and replies refused for want of room (``waiting``) (PostgreSQL; ``bot.outbox.budget``). Rows
    older than a few seconds are deleted as grants go."""

    __tablename__ = "send_budget"

    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    broadcasts: Mapped[int] = mapped_column(Integer)
    replies: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)


class SendReplyRow(Base):
    """A reply, edit or deletion sent to a chat, by the database server's clock in ms
    (PostgreSQL; ``bot.outbox.budget``): with the outbox, what each chat's own limit counts across
    processes. Rows older than two minutes are deleted as grants go."""

    __tablename__ = "send_replies"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_send_replies_chat", "chat", "at_ms"),)


class InboxRow(Base):
    """An update from Telegram, stored before it is acknowledged, handled once.

    Handled rows stay for a day (Telegram may deliver an unconfirmed update again within
    that time; the primary key then ignores it) and are pruned with the other retention.
    """

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index(
            "ix_inbox_pending",
            "update_id",
            sqlite_where=text("handled_at IS NULL"),
            postgresql_where=text("handled_at IS NULL"),
        ),
        Index("ix_inbox_handled", "handled_at"),
    )
