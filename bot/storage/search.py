"""Story search in the database: recent stories of one language whose folded text holds
every query word.

Bounded on both engines: the ``(language, created_at)`` index narrows the scan to the
search window (``SEARCH_DAYS``) of one language, newest first, and at most
``CANDIDATES`` rows come back for ranking (``bot.text.search.rank``). The words are
plain ``LIKE`` substrings (escaped, so ``%`` and ``_`` typed by a reader are literal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ArticleRow

SEARCH_DAYS = 30
CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class Story:
    """What a search result shows and sends."""

    id: int
    title: str
    summary: str
    url: str
    language: str
    regions: tuple[str, ...]
    alternates: str
    image_url: str
    created_at: datetime
    search_text: str


_COLUMNS = (
    ArticleRow.id,
    ArticleRow.title,
    ArticleRow.summary,
    ArticleRow.url,
    ArticleRow.language,
    ArticleRow.regions,
    ArticleRow.alternates,
    ArticleRow.image_url,
    ArticleRow.created_at,
    ArticleRow.search_text,
)


def _story(row: Sequence[object]) -> Story:
    sid, title, summary, url, lang, regions, alternates, image, created, text = row
    return Story(
        id=int(sid),  # type: ignore[call-overload]
        title=str(title),
        summary=str(summary or ""),
        url=str(url),
        language=str(lang),
        regions=tuple(str(regions or "").split()),
        alternates=str(alternates or ""),
        image_url=str(image or ""),
        created_at=created,  # type: ignore[arg-type]
        search_text=str(text or ""),
    )


async def find_stories(
    session: AsyncSession,
    language: str,
    words: Sequence[str],
    now: datetime,
    *,
    days: int = SEARCH_DAYS,
    limit: int = CANDIDATES,
) -> list[Story]:
    """Announced stories in ``language`` from the last ``days`` holding every word, newest
    first, at most ``limit``."""
    query = (
        select(*_COLUMNS)
        .where(
            ArticleRow.language == language,
            ArticleRow.created_at >= now - timedelta(days=days),
            ArticleRow.announced.is_(True),
            *(ArticleRow.search_text.contains(word, autoescape=True) for word in words),
        )
        .order_by(ArticleRow.created_at.desc())
        .limit(limit)
    )
    return [_story(tuple(row)) for row in await session.execute(query)]


async def story_by_id(session: AsyncSession, story_id: int) -> Story | None:
    """One announced story (the Share button's ``#id``), whatever its language or age."""
    if not 0 < story_id < 2**31:
        return None
    row = (
        await session.execute(
            select(*_COLUMNS).where(ArticleRow.id == story_id, ArticleRow.announced.is_(True))
        )
    ).first()
    return None if row is None else _story(tuple(row))
