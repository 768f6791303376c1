"""Typed SQLAlchemy 2 models.

Chat ids are BIGINT (Telegram ids exceed 32 bits). Times are naive UTC in the
database (DESIGN.md decision 9); the repositories convert at the edge.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class FeedRow(Base):
    """Polling state of one catalog feed (scheduling fields live on the row)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    current_url: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    initialized: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    # A permanent redirect is adopted only after it is seen several polls in a row.
    moved_to: Mapped[str | None] = mapped_column(String(2048))
    moved_count: Mapped[int] = mapped_column(Integer, default=0)
    # Successful polls in a row that found nothing new (stretches a slow feed's interval).
    idle_polls: Mapped[int] = mapped_column(Integer, default=0)
    # The server asked us to wait (Retry-After): no request before this, even when forced.
    hold_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The feed's own <ttl> as last read, kept for the polls that answer 304.
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)
    # The WordPress REST base found from the feed's answers (no catalog ``wordpress``
    # line), and how it was found.
    wordpress_api: Mapped[str | None] = mapped_column(String(2048))
    wordpress_found: Mapped[str | None] = mapped_column(String(200))


class ArticleRow(Base):
    """One article, whatever feed or URL variant it was seen through."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), index=True)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    regions: Mapped[str] = mapped_column(String(512), default="")  # space-separated codes
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    announced: Mapped[bool] = mapped_column(Boolean, default=True)
    # Other language versions of the same story: JSON [[language, url], ...] ("" when none).
    alternates: Mapped[str] = mapped_column(Text, default="")
    # Where title and summary were read: "feed", or "rest" (the WordPress REST API, whose
    # excerpt differs from the feed's description: the feed's first sighting is no correction).
    text_source: Mapped[str] = mapped_column(String(8), default="feed")
    # The lead image (feed media, enclosure or the page's og:image), "" when none.
    image_url: Mapped[str] = mapped_column(Text, default="")
    # Breaking news (a catalog category, or the CMS push said so): ahead of everything.
    breaking: Mapped[bool] = mapped_column(Boolean, default=False)
    # Title and summary folded for search (``bot.text.search.searchable``): inline mode and
    # /search compare substrings of it within a window of recent stories of one language.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The private fan-out still to enqueue: private chats with a larger id get their rows
    # next (0: none yet); NULL once done, or for an article that goes to no private chat.
    fanout_after: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_articles_language_created", "language", "created_at"),
        # The fan-out job finds the few articles still fanning out from this index.
        Index(
            "ix_articles_fanout",
            "id",
            sqlite_where=text("fanout_after IS NOT NULL"),
            postgresql_where=text("fanout_after IS NOT NULL"),
        ),
    )

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(self.regions.split()) if self.regions else ()


class ArticleRegionRow(Base):
    """Region membership of an article, for set-based enqueueing and stats."""

    __tablename__ = "article_regions"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(64), primary_key=True)


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
    )


class ChatRegionRow(Base):
    """Which regions a destination receives."""

    __tablename__ = "chat_regions"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_chat_regions_region", "region"),)


class ArticleTopicRow(Base):
    """Catalog topics of an article (from its categories and tags), for the enqueue."""

    __tablename__ = "article_topics"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)


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


# Rows the sender may claim. Written out literally (not as bound parameters) so that the
# database can prove a query's condition matches the partial index ``ix_outbox_claim``.
DUE_CONDITION = "state IN ('pending', 'retry')"


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
        Index("ix_outbox_due", "state", "priority", "next_attempt_at"),
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


class MostReadRow(Base):
    """Last good most-read list per language, served from cache."""

    __tablename__ = "mostread"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    items_json: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class ClickRow(Base):
    """A tracked-link tap: at most one per reader, target and UTC day (the unique key).

    ``reader`` is a keyed hash of IP and User-Agent (Telegram gives no user id on a
    URL tap); ``target`` a hash of the URL, so the unique index stays short.
    """

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # article | donate
    target: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    language: Mapped[str] = mapped_column(String(8))
    regions: Mapped[str] = mapped_column(String(512), default="")  # space-separated codes
    reader: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the IP alone: caps the readers one address can count as.
    address: Mapped[str] = mapped_column(String(32), default="", server_default="")
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("day", "reader", "kind", "target", name="uq_clicks_day_reader_target"),
        Index("ix_clicks_created", "created_at"),
        Index("ix_clicks_address", "day", "address", "target"),
    )


class ClickDayRow(Base):
    """Taps of one target on one UTC day, folded from ``clicks`` once the day is older
    than every stats window (retention): the history stays, one row per target a day."""

    __tablename__ = "click_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    language: Mapped[str] = mapped_column(String(8))
    regions: Mapped[str] = mapped_column(String(512), default="")
    taps: Mapped[int] = mapped_column(Integer)


class DonationRow(Base):
    """A Telegram Stars payment, recorded once by its ``telegram_payment_charge_id``."""

    __tablename__ = "donations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(8))
    payload: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A payment whose invoice payload the bot did not sign (or names another payer or
    # amount): kept, so a refund can find it, but not thanked nor counted.
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_donations_created", "created_at"),)


class ChatManagerRow(Base):
    """A user who connected (and may configure) a channel or group, re-checked at each change."""

    __tablename__ = "chat_managers"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_chat_managers_user", "user_id"),)


class AuditRow(Base):
    """Who changed what in a chat's configuration, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_log_chat", "chat_id", "at"),)


class LeaseRow(Base):
    """Leadership of one guarded part (sender, scheduler) on PostgreSQL.

    ``expires_at`` is the database server's own clock (never a process's), renewed by the
    holder; ``epoch`` grows by one at each change of holder and fences the sender's
    transactions, so a leader cut off and then back cannot touch what its successor owns.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class IngestReplayRow(Base):
    """A signed CMS push already accepted: its signature, kept until its timestamp leaves
    the accepted window (after that the timestamp alone refuses a repeat). In the
    database, so that every web process refuses a repeat the others accepted."""

    __tablename__ = "ingest_replays"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_ingest_replays_expires", "expires_at"),)


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


class HealthProbeRow(Base):
    """The last write each process made to prove the database takes writes (``/healthz``
    on the metrics listener); rows of processes gone for a day are deleted."""

    __tablename__ = "health_probes"

    process: Mapped[str] = mapped_column(String(120), primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(DateTime)


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
