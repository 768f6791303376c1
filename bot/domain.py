"""Plain value types shared by the scheduler, the storage layer and the handlers.

They carry no behaviour and do no I/O, so every layer can depend on them without
depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item as read from a feed, before it becomes an article.

    ``guid`` is the feed's own id (may be empty); ``url`` is the article link as
    given by the feed; ``summary_html`` is the editor's description/excerpt and
    ``content_html`` the full text when the feed carries it.
    """

    guid: str
    url: str
    title: str
    summary_html: str = ""
    content_html: str = ""
    categories: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    author: str = ""
    wp_post_id: int | None = None
    alternates: tuple[tuple[str, str], ...] = ()  # (language code, url) of translations
    image_url: str = ""  # the lead image (media:content, enclosure, og:image), "" when none


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document yielded; ``error`` is set when it was malformed."""

    title: str
    entries: tuple[FeedEntry, ...]
    error: str | None = None
    ttl_seconds: int | None = None
    link: str = ""
    generator: str = ""  # <generator> text and URI ("https://wordpress.org/?v=6.7")


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: exactly one of ``url``, ``callback_data`` or
    ``share_query`` is set. ``share_query`` opens Telegram's chat picker with this inline
    query typed for the bot there (``switch_inline_query_chosen_chat``)."""

    text: str
    url: str | None = None
    callback_data: str | None = None
    share_query: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for the Bot API: HTML text plus rows of inline buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    disable_preview: bool = False
