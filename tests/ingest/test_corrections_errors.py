"""How the correction job takes Telegram's answers: "not modified" and 403 finish the
edit, a long 429 and a server error keep it for later (fake Telegram, local site)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.storage.models import ArticleRow, EditRow, OutboxRow
from scheduler.corrections import Correction, CorrectionJob, queue_corrections
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import FAST
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


async def test_a_message_being_sent_during_the_correction_is_edited_once_sent(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        [post] = api.messages_to(GEORGIA_CHANNEL)
        now = datetime.now(UTC).replace(tzinfo=None)
        async with sessions.begin() as session:  # the send is still in flight ...
            await session.execute(update(OutboxRow).values(state="inflight", message_id=None))
            article = await session.scalar(select(ArticleRow))
            assert article is not None
            fix = Correction(article.id, FIXED, article.summary)
            assert await queue_corrections(session, [fix], now) == 1  # ... as the fix comes

        async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            try:
                bot, posts = parts.application.bot, parts.services.posts
                job = CorrectionJob(parts.sessions, posts, bot, parts.services.clock)
                assert await job.run() == 0  # no message id yet: asked again later
                [edit] = await pending(sessions)
                assert edit.attempts == 1
                async with sessions.begin() as session:  # the send completes
                    await session.execute(
                        update(OutboxRow).values(state="sent", message_id=post.message_id)
                    )
                    await session.execute(update(EditRow).values(due_at=now))
                assert await job.run() == 1
            finally:
                await parts.application.shutdown()
        [edited] = api.messages_to(GEORGIA_CHANNEL, "editMessageText")
        assert edited.message_id == post.message_id and FIXED in edited.plain_text
        assert await pending(sessions) == []
