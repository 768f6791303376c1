"""How a correction takes Telegram's answers, as the sender reads them for every kind:
"not modified" and a message gone finish the edit, a 403 pauses the channel, a long 429
and a server error keep it for later (fake Telegram, local site)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.outbox.queue import Retry
from bot.storage.delivery_claims import claim_due
from bot.storage.delivery_outcomes import record_outcome
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from bot.telegram.publisher import WAIT_FOR_POST
from scheduler.corrections import Correction, queue_corrections
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import FAST
from tests.ingest.test_corrections_e2e import FIRST, FIXED, catalog_for, feed, life


async def edits(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxRow).where(OutboxRow.kind == "edit")))


async def channel_paused(sessions: async_sessionmaker[AsyncSession], edit: OutboxRow) -> bool:
    async with sessions() as session:
        paused = await session.scalar(select(ChatRow.paused).where(ChatRow.id == edit.chat_id))
    return bool(paused)


@pytest.mark.parametrize(
    ("status", "description", "paused"),
    [
        (400, "Bad Request: message is not modified", False),
        (403, "Forbidden: bot is not a member of the channel chat", True),
        (400, "Bad Request: message to edit not found", False),
    ],
)
async def test_final_answers_finish_the_edit(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    status: int,
    description: str,
    paused: bool,
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
        [edit] = await edits(sessions)
        reason = description.split(": ", 1)[1].lower()  # PTB drops the "Bad Request: "
        assert edit.state == "dropped" and reason in (edit.last_error or "").lower()
        assert await channel_paused(sessions, edit) is paused  # a 403: as for a post


async def test_a_long_429_keeps_the_edit_for_later(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        api.fail_next("editMessageText", 429, "Too Many Requests: retry after 120", 120)
        feed(server, FIXED)
        await life(settings, catalog)
        [edit] = await edits(sessions)
        assert edit.state == "retry" and edit.attempts == 1
        assert edit.next_attempt_at > datetime.now(UTC).replace(tzinfo=None)
        await life(settings, catalog)  # not due yet: untouched
        assert len(api.calls("editMessageText")) == 1
        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []


async def test_a_server_error_is_tried_again_shortly_and_edits_once(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An edit whose answer never came may go again (a second one changes nothing),
    unlike a post: after a short backoff, the same drain applies it."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        api.fail_next("editMessageText", 500, "Internal Server Error")
        feed(server, FIXED)
        await life(settings, catalog)
        [edit] = await edits(sessions)
        assert edit.state == "sent" and edit.attempts == 2
        assert len(api.calls("editMessageText")) == 2
        [edited] = api.messages_to(GEORGIA_CHANNEL, "editMessageText")
        assert FIXED in edited.plain_text


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
                async with sessions.begin() as session:
                    [delivery] = await claim_due(session, now, 10)
                assert delivery.kind == "edit" and delivery.target_message_id is None
                outcome = await parts.publisher.publish(delivery)
                assert outcome == Retry(
                    error="edit waits for its post to be sent", after=WAIT_FOR_POST
                )
                async with sessions.begin() as session:  # asked again later; the send ends
                    await record_outcome(session, delivery, outcome, now)
                    await session.execute(
                        update(OutboxRow)
                        .where(OutboxRow.kind == "post")
                        .values(state="sent", message_id=post.message_id)
                    )
                    await session.execute(
                        update(OutboxRow)
                        .where(OutboxRow.kind == "edit")
                        .values(next_attempt_at=now)
                    )
                await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()
        [edited] = api.messages_to(GEORGIA_CHANNEL, "editMessageText")
        assert edited.message_id == post.message_id and FIXED in edited.plain_text
        [edit] = await edits(sessions)
        assert edit.state == "sent"
