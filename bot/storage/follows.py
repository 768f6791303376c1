"""What a chat follows besides regions: catalog topics, and a reader's keywords.

A chat that chose topics or keywords gets an article of its regions only when the
article has one of those topics or one of those keywords is in its title or summary;
a chat that chose neither gets every article of its regions. :func:`follow_condition`
says so as one SQL condition on the ``chats`` row, for the enqueue's single
INSERT ... SELECT (:func:`bot.storage.deliveries.enqueue_article`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.editions import chat_languages
from bot.storage.models import ArticleRow, ArticleTopicRow, ChatKeywordRow, ChatRow, ChatTopicRow
from bot.text.terms import text_terms

#: Keywords one reader may follow.
MAX_KEYWORDS = 10


@dataclass(frozen=True, slots=True)
class Follows:
    """A chat's topics (catalog codes), keywords (stored term, label as written) and the
    languages it follows after its first."""

    topics: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    languages: tuple[str, ...] = ()

    def keyword_for(self, token: str) -> str | None:
        """The stored term a button's :func:`keyword_token` names, if still followed."""
        return next((term for term, _ in self.keywords if keyword_token(term) == token), None)


def keyword_token(term: str) -> str:
    """A short stable name of a keyword for callback data (terms may be long or non-ASCII)."""
    return hashlib.sha256(term.encode()).hexdigest()[:10]


async def follow_condition(
    session: AsyncSession, article_id: int, known_topics: Sequence[str] | None = None
) -> ColumnElement[bool]:
    """Chats that chose no topic and no keyword, or one the article matches.

    Reads the article's topics, title and summary first (one short query each); the
    terms a keyword could be go into the statement as one ``IN`` list. ``known_topics``
    are the catalog's topic codes: a chosen topic the catalog no longer lists does not
    count (its readers would otherwise get nothing at all); ``None`` counts every one.
    """
    chat = ChatRow.__table__.c
    topics = list(
        await session.scalars(
            select(ArticleTopicRow.topic).where(ArticleTopicRow.article_id == article_id)
        )
    )
    texts = (
        await session.execute(
            select(ArticleRow.title, ArticleRow.summary).where(ArticleRow.id == article_id)
        )
    ).one_or_none()
    terms = text_terms(*texts) if texts is not None else []
    chose_topic = exists().where(ChatTopicRow.chat_id == chat.id)
    if known_topics is not None:
        chose_topic = chose_topic.where(ChatTopicRow.topic.in_(list(known_topics)))
    chose_keyword = exists().where(ChatKeywordRow.chat_id == chat.id)
    matches: list[ColumnElement[bool]] = []
    if topics:
        matches.append(chose_topic.where(ChatTopicRow.topic.in_(topics)))
    if terms:
        matches.append(chose_keyword.where(ChatKeywordRow.term.in_(terms)))
    return or_(not_(or_(chose_topic, chose_keyword)), *matches)


async def chat_follows(session: AsyncSession, chat_pk: int) -> Follows:
    topics = await session.scalars(
        select(ChatTopicRow.topic).where(ChatTopicRow.chat_id == chat_pk).order_by("topic")
    )
    keywords = await session.execute(
        select(ChatKeywordRow.term, ChatKeywordRow.label)
        .where(ChatKeywordRow.chat_id == chat_pk)
        .order_by(ChatKeywordRow.label)
    )
    pairs = tuple((t, label) for t, label in keywords)
    return Follows(tuple(topics), pairs, tuple(await chat_languages(session, chat_pk)))


async def toggle_chat_topic(session: AsyncSession, chat_pk: int, topic: str) -> bool:
    """Follow a topic or stop following it; returns whether it is followed now."""
    removed = await session.execute(
        delete(ChatTopicRow).where(ChatTopicRow.chat_id == chat_pk, ChatTopicRow.topic == topic)
    )
    if int(getattr(removed, "rowcount", 0) or 0):
        return False
    session.add(ChatTopicRow(chat_id=chat_pk, topic=topic))
    await session.flush()
    return True


async def add_chat_topics(session: AsyncSession, chat_pk: int, topics: Iterable[str]) -> None:
    """Follow these topics too (those already followed stay)."""
    have = set((await chat_follows(session, chat_pk)).topics)
    for topic in dict.fromkeys(topics):
        if topic not in have:
            session.add(ChatTopicRow(chat_id=chat_pk, topic=topic))
    await session.flush()


async def add_chat_keywords(
    session: AsyncSession, chat_pk: int, keywords: Sequence[tuple[str, str]]
) -> tuple[list[str], bool]:
    """Add (term, label) keywords up to :data:`MAX_KEYWORDS` in all; returns the labels
    added and whether some were left out for the limit. Terms already followed are skipped."""
    count = await session.scalar(
        select(func.count()).select_from(ChatKeywordRow).where(ChatKeywordRow.chat_id == chat_pk)
    )
    have = {t for t, _ in (await chat_follows(session, chat_pk)).keywords}
    room = MAX_KEYWORDS - int(count or 0)
    added: list[str] = []
    full = False
    for term, label in keywords:
        if term in have:
            continue
        if len(added) >= room:
            full = True
            break
        have.add(term)
        session.add(ChatKeywordRow(chat_id=chat_pk, term=term, label=label[:128]))
        added.append(label)
    await session.flush()
    return added, full


async def remove_chat_keyword(session: AsyncSession, chat_pk: int, term: str) -> None:
    await session.execute(
        delete(ChatKeywordRow).where(
            and_(ChatKeywordRow.chat_id == chat_pk, ChatKeywordRow.term == term)
        )
    )
