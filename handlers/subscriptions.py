"""Subscribing a private chat to an edition (region x language), e.g. from a deep link."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Update

from bot.catalog import Catalog
from bot.i18n import Translator
from bot.storage.chats import add_chat_region, chat_region_codes, ensure_private_chat
from bot.storage.editions import add_chat_language, chat_languages, remove_chat_language
from bot.storage.follows import Follows, add_chat_topics
from bot.storage.models import ChatRow
from handlers.services import Services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_PAYLOAD = re.compile(r"^[a-z0-9_]{1,48}(?:-[a-z0-9_]{1,48}){0,8}$")


@dataclass(frozen=True, slots=True)
class DeepLink:
    """What a ``start=`` payload asks for: an edition, and perhaps topics."""

    region: str
    language: str
    topics: tuple[str, ...] = ()


def parse_link(payload: str, catalog: Catalog, reader_lang: str) -> DeepLink | None:
    """``<region>[-<lang>][-<topic>...]``: ``georgia-en``, ``georgia``, ``georgia-en-economy``,
    ``georgia-economy-culture`` (no language: the reader's). None when anything is unknown.

    Topic codes are never language codes (``newsbot check``), so the second part reads
    one way only.
    """
    text = payload.strip().lower()
    if _PAYLOAD.match(text) is None:
        return None
    region, *rest = text.split("-")
    lang = reader_lang
    if rest and rest[0] in catalog.languages:
        lang, rest = rest[0], rest[1:]
    if catalog.region(region) is None or lang not in catalog.languages:
        return None
    if any(catalog.topic(code) is None for code in rest):
        return None
    return DeepLink(region, lang, tuple(dict.fromkeys(rest)))


async def add_region(session: AsyncSession, catalog: Catalog, row: ChatRow, region: str) -> None:
    """Add a region; the first region a reader picks also sets their time zone."""
    if not await chat_region_codes(session, row.id):
        found = catalog.region(region)
        if found is not None:
            row.timezone = found.timezone
    await add_chat_region(session, row.id, region)


async def subscribe_edition(
    services: Services, update: Update, region: str, lang: str, topics: Sequence[str] = ()
) -> Subscribed | None:
    """Add a region (and topics) to the reader's subscription, in the link's language.

    A new reader (or one without regions) takes that language as theirs; a reader who
    already follows regions in another language gets this one added after theirs, not
    instead of them.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    now = services.clock.now()
    async with services.sessions.begin() as session:
        row = await ensure_private_chat(session, chat.id, chat.full_name or "", lang, now)
        regions = await chat_region_codes(session, row.id)
        added = False
        if regions and row.active and row.language != lang:
            added = await add_chat_language(session, row, lang)
        elif row.language != lang:
            await remove_chat_language(session, row.id, lang)
            row.language = lang
        row.active = True
        row.updated_at = now
        await add_region(session, services.catalog, row, region)
        await add_chat_topics(session, row.id, topics)
        others = tuple(await chat_languages(session, row.id))
    return Subscribed(added, region not in regions, (row.language, *others))


def topic_names(catalog: Catalog, codes: Sequence[str], lang: str) -> str:
    """Topic names in ``lang``, in the catalog's words (codes it no longer has left out)."""
    return ", ".join(catalog.topic_name(code, lang) for code in codes if catalog.topic(code))


def follow_lines(tr: Translator, catalog: Catalog, follows: Follows, lang: str) -> list[str]:
    """The lines a settings summary or a channel card shows: topics (when the catalog has
    any) and keywords (when the chat follows some)."""
    lines = []
    if catalog.topics:
        names = topic_names(catalog, follows.topics, lang) or tr.plain(lang, "follow.topics_all")
        lines.append(tr.gettext(lang, "follow.topics_line", topics=names))
    if follows.keywords:
        labels = ", ".join(label for _, label in follows.keywords)
        lines.append(tr.gettext(lang, "follow.keywords_line", keywords=labels))
    if follows.languages:
        names = ", ".join(language_label(tr, code) for code in follows.languages)
        lines.append(tr.gettext(lang, "follow.languages_line", languages=names))
    return lines


def language_label(tr: Translator, lang: str) -> str:
    """A language's name in itself ("Русский"), or its code when the bot has no UI in it."""
    return tr.language_name(lang) if lang in tr.languages else lang.upper()


@dataclass(frozen=True, slots=True)
class Subscribed:
    """What a deep link changed: a language added to a reader's others (``added``), and
    whether the region was new; ``languages`` are the reader's, in order."""

    added: bool
    new_region: bool
    languages: tuple[str, ...]
