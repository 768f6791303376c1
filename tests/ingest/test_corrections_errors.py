"""How the correction job takes Telegram's answers: "not modified" and 403 finish the
edit, a long 429 and a server error keep it for later (fake Telegram, local site)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import EditRow
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.ingest.test_corrections_e2e import FIRST, FIXED, catalog_for, feed, life


async def pending(sessions: async_sessionmaker[AsyncSession]) -> list[EditRow]:
    async with sessions() as session:
        return list(await session.scalars(select(EditRow)))


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: message is not modified"),
        (403, "Forbidden: bot is not a member of the channel chat"),
        (400, "Bad Request: message to edit not found"),
    ],
)
async def test_final_answers_finish_the_edit(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    status: int,
    description: str,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        api.fail_next("editMessageText", status, description)
        feed(server, FIXED)
        await life(settings, catalog)
        assert len(api.calls("editMessageText")) == 1
        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []
        assert await pending(sessions) == []


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "attempts"),
    [
        (429, "Too Many Requests: retry after 120", 120, 0),
        (500, "Internal Server Error", None, 1),
    ],
)
async def test_passing_failures_keep_the_edit_for_later(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    status: int,
    description: str,
    retry_after: int | None,
    attempts: int,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        api.fail_next("editMessageText", status, description, retry_after=retry_after)
        feed(server, FIXED)
        await life(settings, catalog)
        [edit] = await pending(sessions)
        assert edit.attempts == attempts
        assert edit.due_at > datetime.now(UTC).replace(tzinfo=None)
        await life(settings, catalog)  # not due yet: untouched
        assert len(api.calls("editMessageText")) == 1
        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []
