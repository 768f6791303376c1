"""The articles aggregate: stored articles with their regions and topics, and which are known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    exists,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    ArticleRegionRow,
    ArticleRow,
    ArticleTopicRow,
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
