"""Several languages per reader: each story once, in the first of their languages it exists in.

A chat's ``language`` is its first edition (and a reader's UI language); a reader may
follow more editions (``chat_languages``, ranked after it). A story published in several
languages is one article per language, linked by the article's alternates ("Read in:
RU · KA", ``articles.alternates``). :func:`language_condition` decides, as one SQL
condition for the enqueue's INSERT ... SELECT, which chats an article in ``language``
reaches:

- the chat follows that language (first or additional);
- no translation of the story was already queued for the chat (it came once already);
- the story is not known to exist, not yet stored, in a language the chat ranks before
  this one: the alternates say that version is coming, and it will be the one sent.

A version the catalog's feeds never bring would then be missed by readers who rank its
language first; versions that are stored are never waited for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ArticleRow, ChatLanguageRow, ChatRow, OutboxRow
from bot.storage.planner import is_sqlite, unindexed

log = logging.getLogger(__name__)
#: How far back a story's other versions are looked for by their links to it.
LINK_WINDOW = timedelta(days=3)


def alternate_languages(raw: str) -> list[tuple[str, str]]:
    """``articles.alternates`` as (base language code, url) pairs; bad data gives none."""
    try:
        pairs = json.loads(raw) if raw else []
        return [(str(code).split("-")[0].split("_")[0].lower(), str(url)) for code, url in pairs]
    except (ValueError, TypeError):
        log.warning("unreadable article alternates %r", raw[:80])
        return []


async def _followed_languages(session: AsyncSession) -> list[str] | None:
    """Every language of readers who follow several (None: nobody does, and then an
    article reaches the chats of its language and no more is asked).

    Their first languages are read by primary key from the few ids in ``chat_languages``
    (``id IN (...)``): an ``EXISTS`` per chat made SQLite walk every chat, about 0.3 s
    per fan-out chunk at a million readers (``bench/enqueue.py``)."""
    extra = select(ChatLanguageRow.language)
    first = select(ChatRow.language).where(ChatRow.id.in_(select(ChatLanguageRow.chat_id)))
    found = sorted(set(await session.scalars(extra.union(first))))
    return found or None


async def _translations(
    session: AsyncSession,
    article: ArticleRow,
    alternates: Sequence[tuple[str, str]],
    languages: Sequence[str],
) -> list[tuple[int, str]]:
    """Stored versions of the story in ``languages``: (id, language).

    Those the article links to (by their canonical URL), and recent ones that link to it
    (read through the (language, created_at) index).
    """
    urls = [url for _, url in alternates]
    links_here = or_(
        ArticleRow.alternates.contains(f'"{article.canonical_url}"'),
        ArticleRow.alternates.contains(f'"{article.url}"'),
    )
    recent = and_(ArticleRow.created_at >= article.created_at - LINK_WINDOW, links_here)
    where = or_(recent, ArticleRow.canonical_url.in_(urls)) if urls else recent
    others = [lang for lang in languages if lang != article.language]
    if not others:
        return []
    rows = await session.execute(
        select(ArticleRow.id, ArticleRow.language).where(
            ArticleRow.id != article.id, ArticleRow.language.in_(others), where
        )
    )
    return [(int(i), str(lang)) for i, lang in rows]


async def language_condition(
    session: AsyncSession, article_id: int, language: str
) -> ColumnElement[bool]:
    """Chats that get the article in ``language`` (see the module's rules).

    On SQLite the chat's language is a filter, not an index search
    (:func:`bot.storage.planner.unindexed`): the enqueue narrows the chats by kind or by
    a range of ids, and the (language, active) index would have it walk every reader of
    the language (a channel post's enqueue among a million private chats), or look each
    chat of a fan-out chunk up through it."""
    chat = ChatRow.__table__.c
    chat_language = unindexed(chat.language, sqlite=is_sqlite(session))
    follows = or_(
        chat_language == language,
        exists().where(ChatLanguageRow.chat_id == chat.id, ChatLanguageRow.language == language),
    )
    languages = await _followed_languages(session)
    article = await session.get(ArticleRow, article_id) if languages else None
    if article is None or languages is None:
        return chat_language == language
    alternates = [(c, u) for c, u in alternate_languages(article.alternates) if c != language]
    stored = await _translations(session, article, alternates, languages)
    conditions = [follows]
    if stored:
        already = exists().where(
            OutboxRow.chat_id == chat.id, OutboxRow.article_id.in_([i for i, _ in stored])
        )
        conditions.append(not_(already))
    coming = sorted({c for c, _ in alternates if c in languages} - {lang for _, lang in stored})
    if coming:
        conditions.append(not_(_prefers(coming, language)))
    return and_(*conditions)


def _prefers(coming: Sequence[str], language: str) -> ColumnElement[bool]:
    """The chat ranks one of the ``coming`` languages before ``language``."""
    chat = ChatRow.__table__.c
    rank_here = (
        select(ChatLanguageRow.rank)
        .where(ChatLanguageRow.chat_id == chat.id, ChatLanguageRow.language == language)
        .scalar_subquery()
    )
    earlier = exists().where(
        ChatLanguageRow.chat_id == chat.id,
        ChatLanguageRow.language.in_(list(coming)),
        ChatLanguageRow.rank < rank_here,
    )
    return and_(chat.language != language, or_(chat.language.in_(list(coming)), earlier))


async def chat_languages(session: AsyncSession, chat_pk: int) -> list[str]:
    """A chat's additional languages, in its order (its first is ``chats.language``)."""
    rows = await session.scalars(
        select(ChatLanguageRow.language)
        .where(ChatLanguageRow.chat_id == chat_pk)
        .order_by(ChatLanguageRow.rank)
    )
    return list(rows)


async def add_chat_language(session: AsyncSession, row: ChatRow, language: str) -> bool:
    """Follow ``language`` too, after the others; False when the chat follows it already."""
    if language == row.language or language in await chat_languages(session, row.id):
        return False
    last = await session.scalar(
        select(func.max(ChatLanguageRow.rank)).where(ChatLanguageRow.chat_id == row.id)
    )
    session.add(ChatLanguageRow(chat_id=row.id, language=language, rank=int(last or 0) + 1))
    await session.flush()
    return True


async def remove_chat_language(session: AsyncSession, chat_pk: int, language: str) -> None:
    await session.execute(
        delete(ChatLanguageRow).where(
            ChatLanguageRow.chat_id == chat_pk, ChatLanguageRow.language == language
        )
    )
