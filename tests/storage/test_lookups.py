"""Small storage functions the handlers and the core call: the most-read cache, articles'
regions by URL, the operators' languages, the database ping, connecting a chat and the
audit of a resend, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.articles import NewArticle, find_article, insert_article, regions_by_url
from bot.storage.audit import audit_at
from bot.storage.chats import (
    chat_by_id,
    connect_chat,
    ensure_private_chat,
    private_chat_languages,
)
from bot.storage.engine import create_engine
from bot.storage.models import AuditRow, ChatRow
from bot.storage.mostread import cached_list, cached_lists, store_list
from bot.storage.probes import ping, ping_engine

NOW = datetime(2026, 3, 2, 9, 0)


def article(key: str, regions: tuple[str, ...]) -> NewArticle:
    return NewArticle(
        key=key,
        url=f"https://caucasus-wire.example/{key}/",
        canonical_url=f"https://caucasus-wire.example/{key}/",
        title=f"Story {key}",
        summary="The council met on Monday in Tbilisi.",
        language="en",
        regions=regions,
        feed_id=None,
        published_at=None,
        announced=True,
    )


async def test_a_stored_list_replaces_the_last_and_clears_its_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        assert await cached_list(session, "en") is None
        await store_list(session, "en", '[{"title": "A", "url": "u"}]', NOW)
        await store_list(session, "ru", "[]", NOW)
    async with sessions.begin() as session:
        row = await cached_list(session, "en")
        assert row is not None
        row.error = "HTTP 500"
    later = NOW + timedelta(hours=1)
    async with sessions.begin() as session:
        await store_list(session, "en", "[]", later)
    async with sessions() as session:
        rows = {r.language: r for r in await cached_lists(session)}
    assert sorted(rows) == ["en", "ru"]
    assert (rows["en"].items_json, rows["en"].fetched_at, rows["en"].error) == ("[]", later, None)


async def test_regions_by_url_names_known_articles_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await insert_article(session, article("one", ("georgia", "armenia")), NOW)
        await insert_article(session, article("two", ()), NOW)
    async with sessions() as session:
        found = await regions_by_url(
            session,
            [
                "https://caucasus-wire.example/one/",
                "https://caucasus-wire.example/two/",
                "https://elsewhere.example/",
            ],
        )
        assert await regions_by_url(session, []) == {}
    assert found == {
        "https://caucasus-wire.example/one/": ("georgia", "armenia"),
        "https://caucasus-wire.example/two/": (),
    }


async def test_private_chat_languages_reads_private_chats_at_the_addresses(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await ensure_private_chat(session, 101, "Nino", "ka", NOW)
        await ensure_private_chat(session, 102, "Ani", "hy", NOW)
        await ensure_private_chat(session, 103, "Elvin", "az", NOW)
    async with sessions() as session:
        chosen = await private_chat_languages(session, ["102", "101", "999"])
    assert chosen == {"101": "ka", "102": "hy"}


async def test_ping_answers_while_the_database_does(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as session:
        await ping(session)
    await ping_engine(engine)
    sqlite = engine.url.drivername.startswith("sqlite")
    missing = str(tmp_path / "no" / "such.db") if sqlite else "no_such_database_here"
    gone = create_engine(engine.url.set(database=missing).render_as_string(hide_password=False))
    try:
        with pytest.raises(DBAPIError):
            await ping_engine(gone)
    finally:
        await gone.dispose()


async def test_connect_chat_finds_the_catalog_row_and_makes_a_dropped_one_the_admins(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        listed = ChatRow(
            address="@cw_georgia",
            thread_id=0,
            kind="channel",
            language="en",
            origin="catalog",
            mode="instant",
            active=False,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(listed)
        await session.flush()
        listed_id = listed.id
    later = NOW + timedelta(minutes=5)
    async with sessions.begin() as session:
        row = await connect_chat(
            session,
            -1001,
            "CW_Georgia",
            0,
            kind="channel",
            title="CW Georgia",
            topic_name=None,
            language="ru",
            now=later,
        )
        assert row.id == listed_id  # the catalog's row, not a second one
        assert (row.origin, row.active, row.language, row.title) == (
            "user",
            True,
            "en",
            "CW Georgia",
        )
        topic = await connect_chat(
            session,
            -1002,
            None,
            7,
            kind="supergroup",
            title="Newsroom",
            topic_name="Tbilisi",
            language="ka",
            now=later,
        )
        again = await connect_chat(
            session,
            -1002,
            None,
            7,
            kind="supergroup",
            title="Newsroom",
            topic_name="Renamed",
            language="en",
            now=later,
        )
    assert again.id == topic.id
    assert (again.address, again.language, again.topic_name, again.origin) == (
        "-1002",
        "ka",
        "Tbilisi",
        "user",
    )
    async with sessions() as session:
        found = await chat_by_id(session, topic.id)
        assert found is not None and found.thread_id == 7
        assert await chat_by_id(session, None) is None
        assert await chat_by_id(session, topic.id + 1000) is None


async def test_find_article_and_audit_at(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        article_id = await insert_article(session, article("one", ("georgia",)), NOW)
        audit_at(session, NOW, 42, None, "@gone", "resend", "article 1: queued again")
    async with sessions() as session:
        found = await find_article(session, article_id)
        assert found is not None and found.key == "one"
        assert await find_article(session, article_id + 1) is None
        rows = list(await session.scalars(select(AuditRow)))
    assert [(r.user_id, r.chat_id, r.address, r.action) for r in rows] == [
        (42, None, "@gone", "resend")
    ]
