"""Done-when check, through the whole bot: a headline edited after publishing is edited
in the channel (fake Telegram, local site); past the correction window it is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.catalog import Catalog
from bot.config import Settings
from bot.storage.models import ArticleRow, OutboxRow
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, item, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import FAST, REST, FakeWordPress, Post

SITE = "https://caucasus-wire.example"
FIRST = "Tbilisi council approves the budget"
FIXED = "Tbilisi council approves the 2027 budget"


async def life(settings: Settings, catalog: Catalog) -> None:
    """Start, poll, send what is due (posts, and the edits a poll queued), stop."""
    async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
        assert parts.application is not None and parts.services is not None
        await parts.application.initialize()
        try:
            await parts.ingestor.poll_all()
            await parts.sender.drain(within=30)
        finally:
            await parts.application.shutdown()


def feed(server: FeedServer, title: str, **fields: Any) -> None:
    entry = {**item(7, title, categories=["Georgia"]), **fields}
    server.set_feed("/feed/", wordpress_feed([entry], site=SITE))


def catalog_for(server: FeedServer, **feed_keys: Any) -> Catalog:
    return make_catalog([], feeds=[{"url": server.url("/feed/"), "language": "en", **feed_keys}])


async def test_a_corrected_headline_is_edited_in_the_channel(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        [post] = api.messages_to(GEORGIA_CHANNEL)
        assert FIRST in post.plain_text

        feed(server, FIXED)
        await life(settings, catalog)

        [edit] = api.messages_to(GEORGIA_CHANNEL, "editMessageText")
        assert edit.method == "editMessageText"
        assert edit.message_id == post.message_id
        assert FIXED in edit.plain_text
        assert edit.reply_markup == post.reply_markup  # the buttons stay
        assert len(api.messages_to(GEORGIA_CHANNEL)) == 1  # edited, not sent again
        assert api.limit_violations == 0

        await life(settings, catalog)  # the same correction seen again: nothing more
        assert len(api.messages_to(GEORGIA_CHANNEL, "editMessageText")) == 1


async def test_a_changed_summary_is_edited_too(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1)
        settings = make_settings(api, database_url)
        before = "The city council met on Tuesday evening. Members debated the plan for hours."
        after = "The city council voted nine to two on Tuesday. A recount is due next week."
        feed(server, FIRST, description=f"<p>{before}</p>")
        await life(settings, catalog)
        assert before in api.messages_to(GEORGIA_CHANNEL)[0].plain_text
        feed(server, FIRST, description=f"<p>{after}</p>")
        await life(settings, catalog)
        [edit] = api.messages_to(GEORGIA_CHANNEL, "editMessageText")
        assert after in edit.plain_text


async def test_a_correction_after_the_window_is_not_applied(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1, corrections_hours=48)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        assert len(api.messages_to(GEORGIA_CHANNEL)) == 1
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=49)
        async with sessions.begin() as session:
            await session.execute(update(ArticleRow).values(created_at=past))

        feed(server, FIXED)
        await life(settings, catalog)

        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []
        async with sessions() as session:
            assert await session.scalar(select(ArticleRow.title)) == FIRST
            assert (
                list(await session.scalars(select(OutboxRow).where(OutboxRow.kind == "edit"))) == []
            )


async def test_corrections_switched_off_edit_nothing(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        catalog = catalog_for(server, backlog=1, corrections_hours=0)
        settings = make_settings(api, database_url)
        feed(server, FIRST)
        await life(settings, catalog)
        feed(server, FIXED)
        await life(settings, catalog)
        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []


async def test_the_feed_version_of_a_pushed_article_is_no_correction(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A CMS push stores the REST API's text (its own title and excerpt shapes); the feed
    seen later describes the same post differently: a new baseline, not an edit."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        site.publish([Post(1, datetime.now(UTC).replace(tzinfo=None), "Georgia")])
        feeds = [{"url": server.url("/feed/"), "language": "en", "wordpress": server.url(REST)}]
        catalog = make_catalog([], feeds=feeds)
        settings = make_settings(api, database_url)
        async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            try:
                await parts.ingestor.push(post_id=1, url=f"{SITE}/1/")
                await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()
        assert len(api.messages_to(GEORGIA_CHANNEL)) == 1

        await life(settings, catalog)  # the feed's version of the same post
        await life(settings, catalog)

        assert api.messages_to(GEORGIA_CHANNEL, "editMessageText") == []
        async with sessions() as session:
            article = await session.scalar(select(ArticleRow))
            assert article is not None
            assert article.text_source == "feed" and article.title == site.posts[0].title
