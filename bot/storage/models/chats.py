"""Readers' chats and channels: their settings, follows and managers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class ChatRow(Base):
    """A destination: a channel, a group (or one of its forum topics) or a private chat."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))  # numeric id or @username
    thread_id: Mapped[int] = mapped_column(BigInteger, default=0)
    kind: Mapped[str] = mapped_column(String(16))  # private | group | supergroup | channel
    title: Mapped[str] = mapped_column(String(256), default="")
    # A forum topic's name (from forum_topic_created/_edited); None: not a topic, or not seen.
    topic_name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(16), default="user")  # catalog | user
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(16), default="instant")  # instant | digest
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Subscriber delivery settings (local wall-clock times as minutes after midnight).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_minute: Mapped[int] = mapped_column(SmallInteger, default=480)
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)  # None: quiet hours off
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The reader asked for the digest on days without news too (else none is sent then).
    digest_when_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why a chat is paused: "admin" (by its admins) or "removed" (the bot lost its rights).
    pause_reason: Mapped[str | None] = mapped_column(String(16))
    # Reader revenue: the subscriber hid donation appeals; opted in to the weekly most-read.
    hide_appeals: Mapped[bool] = mapped_column(Boolean, default=False)
    weekly_mostread: Mapped[bool] = mapped_column(Boolean, default=False)
    last_weekly_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A subscriber's "breaking alerts": breaking news skips their digest and quiet hours.
    breaking_alerts: Mapped[bool] = mapped_column(Boolean, default=True)
    # Channel and group posts: a photo with the post as caption when there is a lead image;
    # breaking posts pinned for this many hours (0: never); silent during the region's
    # quiet hours; link previews "auto" (Telegram's choice), "off", "small", "large", "above".
    photos: Mapped[bool] = mapped_column(Boolean, default=True)
    pin_breaking_hours: Mapped[int] = mapped_column(SmallInteger, default=0)
    silent_at_night: Mapped[bool] = mapped_column(Boolean, default=False)
    link_preview: Mapped[str] = mapped_column(String(8), default="auto")

    __table_args__ = (
        UniqueConstraint("address", "thread_id", name="uq_chats_address_thread"),
        Index("ix_chats_language_active", "language", "active"),
        # Channels and groups found among a million private chats without reading them
        # (the ingest transaction's enqueue); private chats walked in ranges of ids (the
        # fan-out's chunks, ``bot.storage.fanout``).
        Index("ix_chats_kind_id", "kind", "id"),
        # The chats with quiet hours in a fan-out chunk's range of ids (migration 0027).
        Index(
            "ix_chats_quiet",
            "kind",
            "id",
            sqlite_where=text("quiet_start IS NOT NULL"),
            postgresql_where=text("quiet_start IS NOT NULL"),
        ),
    )


class ChatRegionRow(Base):
    """Which regions a destination receives."""

    __tablename__ = "chat_regions"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_chat_regions_region", "region"),)


class ChatTopicRow(Base):
    """Topics a destination chose: with any, it gets only articles of one of them."""

    __tablename__ = "chat_topics"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)


class ChatLanguageRow(Base):
    """A reader's editions after their first (``chats.language``), in their order: a story
    reaches them once, in the first of these it exists in (``bot.storage.editions``)."""

    __tablename__ = "chat_languages"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger)


class ChatKeywordRow(Base):
    """A reader's keyword: ``term`` folded as :func:`bot.text.terms.keyword_term` makes it
    (a trailing ``*`` for a word prefix), ``label`` as the reader wrote it."""

    __tablename__ = "chat_keywords"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(128))


class ChatManagerRow(Base):
    """A user who connected (and may configure) a channel or group, re-checked at each change."""

    __tablename__ = "chat_managers"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_chat_managers_user", "user_id"),)
