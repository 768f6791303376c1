"""The articles aggregate: stored articles with their regions and topics, and which are known."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    exists,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    ArticleRegionRow,
    ArticleRow,
    ArticleTopicRow,
    FeedRow,
)
from bot.storage.upsert import insert_ignoring_conflicts
from bot.text.search import searchable


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    rows = await session.scalars(select(ArticleRow.key).where(ArticleRow.key.in_(list(keys))))
    return set(rows)


async def known_canonical_urls(session: AsyncSession, urls: Sequence[str]) -> set[str]:
    if not urls:
        return set()
    rows = await session.scalars(
        select(ArticleRow.canonical_url).where(ArticleRow.canonical_url.in_(list(urls)))
    )
    return set(rows)


@dataclass(frozen=True, slots=True)
class NewArticle:
    key: str
    url: str
    canonical_url: str
    title: str
    summary: str
    language: str
    regions: tuple[str, ...]
    feed_id: int | None
    published_at: datetime | None
    announced: bool
    image_url: str = ""
    breaking: bool = False
    topics: tuple[str, ...] = ()


async def insert_article(session: AsyncSession, article: NewArticle, now: datetime) -> int:
    row = ArticleRow(
        key=article.key,
        url=article.url,
        canonical_url=article.canonical_url,
        title=article.title,
        summary=article.summary,
        language=article.language,
        regions=" ".join(article.regions),
        feed_id=article.feed_id,
        published_at=article.published_at,
        created_at=now,
        updated_at=now,
        announced=article.announced,
        image_url=article.image_url,
        breaking=article.breaking,
        search_text=searchable(article.title, article.summary),
    )
    session.add(row)
    await session.flush()
    if article.regions:
        await session.execute(
            insert_ignoring_conflicts(session, ArticleRegionRow),
            [{"article_id": row.id, "region": code} for code in article.regions],
        )
    if article.topics:
        await session.execute(
            insert_ignoring_conflicts(session, ArticleTopicRow),
            [{"article_id": row.id, "topic": code} for code in article.topics],
        )
    return row.id


async def find_article(session: AsyncSession, article_id: int) -> ArticleRow | None:
    return await session.get(ArticleRow, article_id)


async def latest_articles(
    session: AsyncSession, language: str, limit: int, region: str | None = None
) -> list[ArticleRow]:
    query = select(ArticleRow).where(ArticleRow.language == language)
    if region:
        query = query.where(
            exists().where(
                ArticleRegionRow.article_id == ArticleRow.id, ArticleRegionRow.region == region
            )
        )
    query = query.order_by(ArticleRow.created_at.desc(), ArticleRow.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def regions_by_url(session: AsyncSession, urls: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The regions of the stored articles at ``urls`` (unknown URLs are left out)."""
    if not urls:
        return {}
    rows = await session.scalars(select(ArticleRow).where(ArticleRow.url.in_(list(urls))))
    return {a.url: a.region_codes for a in rows}


async def article_topics(session: AsyncSession, article_ids: Sequence[int]) -> dict[int, set[str]]:
    """The topic codes of each article (those without a topic are left out)."""
    topics: dict[int, set[str]] = {}
    found = await session.execute(
        select(ArticleTopicRow.article_id, ArticleTopicRow.topic).where(
            ArticleTopicRow.article_id.in_(list(article_ids))
        )
    )
    for article_id, topic in found:
        topics.setdefault(article_id, set()).add(topic)
    return topics


@dataclass(frozen=True, slots=True)
class Stored:
    """What a correction compares: the article as stored."""

    article_id: int
    title: str
    summary: str
    alternates: str = ""
    text_source: str = "feed"


async def stored_articles(
    session: AsyncSession, keys: Sequence[str], feed_id: int, since: datetime
) -> dict[str, Stored]:
    """Announced articles of this feed first stored after ``since``, by key.

    Only the feed that stored an article corrects it: two feeds describing one article
    differently would otherwise edit its messages back and forth.
    """
    if not keys:
        return {}
    a = ArticleRow
    rows = await session.execute(
        select(a.key, a.id, a.title, a.summary, a.alternates, a.text_source).where(
            a.key.in_(list(keys)),
            a.feed_id == feed_id,
            a.announced.is_(True),
            a.created_at >= since,
        )
    )
    return {key: Stored(aid, t, s, alt or "", src) for key, aid, t, s, alt, src in rows}


async def correct_article(
    session: AsyncSession,
    article_id: int,
    *,
    title: str,
    summary: str,
    alternates: str,
    now: datetime,
) -> None:
    """The article's corrected title, summary and language links (from the feed)."""
    await session.execute(
        update(ArticleRow)
        .where(ArticleRow.id == article_id)
        .values(
            title=title,
            summary=summary,
            search_text=searchable(title, summary),
            alternates=alternates,
            text_source="feed",
            updated_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class Removed:
    """An article the site may have removed: what the editors' notice names."""

    article_id: int
    url: str
    title: str


async def recent_wordpress_articles(
    session: AsyncSession, feed_url: str, since: datetime
) -> list[tuple[str, Removed]]:
    """Announced articles of this feed keyed by WordPress post id, published and first
    stored after ``since``: the ones the REST API must still list if they exist."""
    a = ArticleRow
    rows = await session.execute(
        select(a.key, a.id, a.url, a.title)
        .join(FeedRow, FeedRow.id == a.feed_id)
        .where(
            FeedRow.url == feed_url,
            a.key.like("wp:%"),
            a.announced.is_(True),
            a.created_at >= since,
            a.published_at >= since,
        )
    )
    return [(key, Removed(aid, url, title)) for key, aid, url, title in rows]


async def articles_at(session: AsyncSession, urls: Sequence[str]) -> list[ArticleRow]:
    """The articles stored with one of these URLs (as stored: IRI or ASCII URI)."""
    if not urls:
        return []
    return list(await session.scalars(select(ArticleRow).where(ArticleRow.url.in_(list(urls)))))


async def stored_identities(
    session: AsyncSession, keys: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """The canonical URL and title of each stored article among these keys, by key."""
    rows = await session.execute(
        select(ArticleRow.key, ArticleRow.canonical_url, ArticleRow.title).where(
            ArticleRow.key.in_(list(keys))
        )
    )
    return {key: (url, title) for key, url, title in rows}


async def newest_published(session: AsyncSession, feed_id: int) -> datetime | None:
    """The newest publication time of the feed's stored articles (naive UTC)."""
    return await session.scalar(
        select(func.max(ArticleRow.published_at)).where(ArticleRow.feed_id == feed_id)
    )


async def set_article_columns(
    session: AsyncSession, article_id: int, values: Mapping[str, object]
) -> None:
    """Columns of a stored article written after its insert (language links, text
    source, the fan-out cursor)."""
    await session.execute(update(ArticleRow).where(ArticleRow.id == article_id).values(values))
