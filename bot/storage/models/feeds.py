"""Feeds, the articles read from them, and how articles are tagged and ranked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


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


class ArticleTopicRow(Base):
    """Catalog topics of an article (from its categories and tags), for the enqueue."""

    __tablename__ = "article_topics"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)


class MostReadRow(Base):
    """Last good most-read list per language, served from cache."""

    __tablename__ = "mostread"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    items_json: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
