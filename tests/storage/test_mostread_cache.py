"""The most-read cache and the taps it may be ranked by, in storage: a source's error is
noted on the cached list, a list dropped leaves no row, taps rank by distinct readers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, articles_at, insert_article
from bot.storage.clicks import add_click, most_tapped_urls
from bot.storage.models import MostReadRow
from bot.storage.mostread import drop_list, note_list_error

NOW = datetime(2026, 3, 2, 9, 0)


async def test_an_error_is_noted_on_the_cached_list_and_a_dropped_list_is_gone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await note_list_error(session, "en", "HTTP 500")  # no list yet: nothing
        session.add(MostReadRow(language="en", items_json="[]", fetched_at=NOW))
    async with sessions.begin() as session:
        await note_list_error(session, "en", "HTTP 503")
    async with sessions() as session:
        row = await session.get(MostReadRow, "en")
        assert row is not None and row.error == "HTTP 503"
        assert await session.get(MostReadRow, "ru") is None
    async with sessions.begin() as session:
        await drop_list(session, "en")
        await drop_list(session, "ru")  # none cached: nothing to do
    async with sessions() as session:
        assert await session.get(MostReadRow, "en") is None


async def tap(session: AsyncSession, url: str, reader: str, at: datetime, lang: str = "en") -> None:
    await add_click(
        session,
        kind="article",
        target=url,
        url=url,
        language=lang,
        regions="",
        reader=reader,
        address="127.0.0.1",
        now=at,
    )


async def test_taps_rank_by_distinct_readers_then_the_newest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two, three = (f"https://caucasus-wire.example/{n}/" for n in ("one", "two", "three"))
    async with sessions.begin() as session:
        for day in range(1, 4):  # one reader every day counts once
            await tap(session, one, "r1", NOW - timedelta(days=day))
        await tap(session, two, "r1", NOW - timedelta(days=1))
        await tap(session, two, "r2", NOW - timedelta(days=1))
        await tap(session, three, "r3", NOW)
        await tap(session, three, "r4", NOW - timedelta(days=30))  # before the window
        await tap(session, "https://caucasus-wire.example/ru/", "r5", NOW, lang="ru")
    since = NOW - timedelta(days=7)
    async with sessions() as session:
        assert await most_tapped_urls(session, "en", since, 10) == [two, three, one]
        assert await most_tapped_urls(session, "en", since, 1) == [two]


async def test_articles_are_found_by_their_stored_url(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    url = "https://caucasus-wire.example/სტატია/"
    async with sessions.begin() as session:
        await insert_article(
            session,
            NewArticle(
                key="k",
                url=url,
                canonical_url=url,
                title="Story",
                summary="",
                language="ka",
                regions=(),
                feed_id=None,
                published_at=None,
                announced=True,
            ),
            NOW,
        )
    async with sessions() as session:
        assert [a.title for a in await articles_at(session, [url, "https://x.example/"])] == [
            "Story"
        ]
        assert await articles_at(session, []) == []
