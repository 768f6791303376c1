"""Turn articles into Telegram messages (HTML parse mode) that Telegram always accepts.

Telegram counts its limits (4096 for a message, 1024 for a caption) in UTF-16 code units of
the text *after* entity parsing: tags are free, ``&amp;`` is one unit, an emoji outside the
Basic Multilingual Plane is two. So every length here is measured on plain text, and every
cut is made on plain text *before* escaping -- a cut can never split a tag or an entity.

Everything that comes from outside (feed titles and summaries, URLs, region names, button
labels) is cleaned of characters Telegram rejects or that would garble the rest of the
message, then escaped. The module is pure: no I/O, no clock, no Telegram objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.domain import Button, RenderedMessage
from bot.outbox.clean import (
    ELLIPSIS,
    clean_block,
    clean_line,
    entity_count,
    escape,
    escape_attr,
    hashtags_of,
    http_url,
    shorten,
    visible_length,
)
from bot.text.utf16 import utf16_len

__all__ = [
    "CAPTION_LIMIT",
    "MAX_ENTITIES",
    "MESSAGE_LIMIT",
    "render_list",
    "render_post",
    "split_html_blocks",
]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
# Telegram ignores formatting beyond about 100 entities in one message; lists and digest
# packing stay under it, counting auto-detected hashtags too to be safe.
MAX_ENTITIES = 100
BREAKING_PREFIX = "🔴 "
# Below these a shortened piece says nothing useful, so it is dropped (summary) or other
# pieces give way first (title).
MIN_SUMMARY_UNITS = 60
MIN_TITLE_UNITS = 20
LIST_TITLE_UNITS = 200
MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
CALLBACK_DATA_BYTES = 64
SHARE_QUERY_CHARS = 256  # an inline query's limit


# --- posts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Post:
    """The plain-text pieces of a post; its length is what Telegram will count."""

    prefix: str
    title: str
    summary: str
    tags: tuple[str, ...]

    def parts(self) -> list[str]:
        return [p for p in (self.prefix + self.title, self.summary, " ".join(self.tags)) if p]

    def length(self) -> int:
        return utf16_len("\n\n".join(self.parts()))

    def title_room(self, limit: int) -> int:
        """Units left for the title once everything else is laid out."""
        return limit - (self.length() - utf16_len(self.title))


def _fit(post: _Post, limit: int) -> _Post:
    """Shorten the summary first, then the title (dropping hashtags only when the title
    would otherwise become uselessly short), until the post fits ``limit``."""
    if post.length() <= limit:
        return post
    without_summary = replace(post, summary="")
    room = limit - without_summary.length() - 2
    if post.summary and room >= MIN_SUMMARY_UNITS:
        return replace(post, summary=shorten(post.summary, room, sentences=True))
    post = without_summary
    if post.length() <= limit:
        return post
    while post.tags and post.title_room(limit) < MIN_TITLE_UNITS:
        post = replace(post, tags=post.tags[:-1])
    if post.prefix and post.title_room(limit) < 1:
        post = replace(post, prefix="")
    return replace(post, title=shorten(post.title, max(post.title_room(limit), 1)))


def _fallback_title(link: str | None) -> str:
    """Something to show when a feed gave no title: the link itself, or an ellipsis."""
    return clean_line(link) if link else ELLIPSIS


def _post_html(post: _Post, link: str | None) -> str:
    title = escape(post.title)
    linked = f'<a href="{escape_attr(link)}">{title}</a>' if link else title
    parts = [escape(post.prefix) + f"<b>{linked}</b>"]
    if post.summary:
        parts.append(escape(post.summary))
    if post.tags:
        parts.append(escape(" ".join(post.tags)))
    return "\n\n".join(parts)


def _clean_button(button: Button) -> Button | None:
    """The button with a safe label and target, or ``None`` if Telegram would reject it."""
    text = clean_line(button.text)
    actions = (button.url, button.callback_data, button.share_query)
    if not text or sum(action is not None for action in actions) != 1:
        return None
    if button.share_query is not None:
        query = clean_line(button.share_query)[:SHARE_QUERY_CHARS]
        return Button(text=text, share_query=query)
    if button.url is not None:
        url = http_url(button.url)
        return Button(text=text, url=url) if url else None
    data = button.callback_data or ""
    if not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_BYTES:
        return None
    return Button(text=text, callback_data=data)


def _keyboard(rows: Iterable[Iterable[Button]]) -> tuple[tuple[Button, ...], ...]:
    """Valid buttons only, no empty rows, within Telegram's per-row and total counts."""
    out: list[tuple[Button, ...]] = []
    total = 0
    for row in rows:
        kept = [b for b in (_clean_button(b) for b in row) if b is not None]
        kept = kept[: min(MAX_BUTTONS_PER_ROW, MAX_BUTTONS - total)]
        if kept:
            out.append(tuple(kept))
            total += len(kept)
    return tuple(out)


def render_post(
    *,
    title: str,
    url: str,
    summary: str,
    hashtags: Sequence[str],
    read_more: Button,
    extra_buttons: Sequence[Sequence[Button]] = (),
    limit: int = MESSAGE_LIMIT,
    breaking: bool = False,
    breaking_mark: str = "",
) -> RenderedMessage:
    """An article as a channel/subscriber post: linked bold title, summary, hashtags.

    ``hashtags`` are region codes or names (sanitised here). The Read-more button comes
    first, then ``extra_buttons`` rows; without an http(s) ``url`` the title carries no link
    and there is no Read-more button. ``limit`` is 4096 for messages, 1024 for captions.
    A breaking post starts with a red mark and ``breaking_mark`` (the translated word).
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    link = http_url(url)
    mark = clean_line(breaking_mark)
    prefix = (BREAKING_PREFIX + (f"{mark}: " if mark else "")) if breaking else ""
    post = _Post(
        prefix=prefix,
        title=clean_line(title) or _fallback_title(link),
        summary=clean_block(summary),
        tags=hashtags_of(hashtags),
    )
    post = _fit(post, limit)
    rows: list[Sequence[Button]] = [[read_more]] if link else []
    rows.extend(extra_buttons)
    return RenderedMessage(text=_post_html(post, link), buttons=_keyboard(rows))


# --- lists and digests -----------------------------------------------------------------


def _list_line(number: int, title: str, url: str, tags: Sequence[str]) -> str | None:
    """``1. <a href="u">Title</a> #tag`` or ``None`` when there is nothing to show."""
    link = http_url(url)
    text = clean_line(title) or (clean_line(link) if link else "")
    if not text:
        return None
    text = escape(shorten(text, LIST_TITLE_UNITS))
    item = f'<a href="{escape_attr(link)}">{text}</a>' if link else text
    tag_text = " ".join(hashtags_of(tags))
    return f"{number}. {item}" + (f" {escape(tag_text)}" if tag_text else "")


def _joined_length(lengths: Sequence[int], separator: int) -> int:
    """Length of non-empty pieces joined by a separator of ``separator`` units."""
    present = [n for n in lengths if n > 0]
    return sum(present) + separator * max(len(present) - 1, 0)


def render_list(
    *,
    heading: str,
    items: Sequence[tuple[str, str, Sequence[str]]],
    footer: str = "",
    limit: int = MESSAGE_LIMIT,
) -> str:
    """A numbered list of linked titles with hashtags (most-read, digests).

    ``heading`` and ``footer`` are trusted Telegram HTML (for example from the translator);
    ``items`` are outside ``(title, url, tags)`` and are cleaned and escaped. Items that do
    not fit the limit (or the entity budget) are dropped; numbering stays consecutive.
    """
    head, foot = heading.strip(), footer.strip()
    head_len, foot_len = visible_length(head), visible_length(foot)
    if _joined_length([head_len, foot_len], 2) > limit:
        raise ValueError("heading and footer alone exceed the limit")
    entities = entity_count(head) + entity_count(foot)
    lines: list[str] = []
    body_len = 0
    for title, url, tags in items:
        line = _list_line(len(lines) + 1, title, url, tags)
        if line is None:
            continue
        new_body = _joined_length([body_len, visible_length(line)], 1)
        line_entities = entity_count(line)
        fits = _joined_length([head_len, new_body, foot_len], 2) <= limit
        if fits and entities + line_entities <= MAX_ENTITIES:
            lines.append(line)
            body_len, entities = new_body, entities + line_entities
    return "\n\n".join(part for part in (head, "\n".join(lines), foot) if part)


def split_html_blocks(blocks: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pack well-formed HTML blocks, in order, into as few messages as fit ``limit``.

    Blocks are joined by a blank line and never split, so each message stays well-formed;
    a block that alone exceeds the limit or the entity budget is a caller error.
    """
    messages: list[str] = []
    current: list[str] = []
    length = entities = 0
    for index, raw in enumerate(blocks):
        block = raw.strip()
        if not block:
            continue
        size, count = visible_length(block), entity_count(block)
        if size > limit or count > MAX_ENTITIES:
            raise ValueError(f"block {index} does not fit in one message")
        if current and (length + 2 + size > limit or entities + count > MAX_ENTITIES):
            messages.append("\n\n".join(current))
            current, length, entities = [], 0, 0
        length += size + (2 if current else 0)
        entities += count
        current.append(block)
    if current:
        messages.append("\n\n".join(current))
    return messages
