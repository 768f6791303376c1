"""Done-when check, through the whole bot: a burst published while the bot was down
reaches the channels after a restart, each article once (fake Telegram, local site)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import assemble
from bot.catalog import Catalog
from bot.config import Settings
from tests.e2e.support import (
    ARMENIA_CHANNEL,
    GEORGIA_CHANNEL,
    declare_channels,
    make_catalog,
    make_settings,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import FAST, REST, FakeWordPress, Post


async def poll_and_send(settings: Settings, catalog: Catalog) -> None:
    """One life of the bot: start, poll every feed, send what is due, stop."""
    async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
        assert parts.application is not None
        await parts.application.initialize()
        try:
            await parts.ingestor.poll_all()
            await parts.sender.drain(within=30)
        finally:
            await parts.application.shutdown()


@pytest.mark.slow
async def test_burst_while_down_reaches_the_channels_once_each(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        now = datetime.now(UTC).replace(tzinfo=None)
        site.publish([Post(n, now - timedelta(hours=5, minutes=n), "Georgia") for n in (1, 2)])
        feeds = [{"url": server.url("/feed/"), "language": "en", "wordpress": server.url(REST)}]
        catalog = make_catalog([], feeds=feeds)
        settings = make_settings(api, database_url)

        await poll_and_send(settings, catalog)  # first sight: nothing is posted
        assert api.messages_to(GEORGIA_CHANNEL) == [] == api.messages_to(ARMENIA_CHANNEL)

        burst = [
            Post(100 + n, now - timedelta(hours=4) + timedelta(minutes=5 * n), region)
            for n, region in enumerate(["Georgia", "Armenia"] * 12 + ["Georgia"])
        ]
        site.publish(burst)  # the feed now shows only the 10 newest of 25
        await poll_and_send(settings, catalog)  # restart
        await poll_and_send(settings, catalog)  # and once more: nothing new

        posted = [m.plain_text for m in api.messages_to(GEORGIA_CHANNEL)]
        posted += [m.plain_text for m in api.messages_to(ARMENIA_CHANNEL)]
        for post in burst:
            assert sum(post.title in text for text in posted) == 1, post.title
        assert len(posted) == 25
        assert len(api.messages_to(GEORGIA_CHANNEL)) == 13
        assert api.limit_violations == 0


@pytest.mark.slow
async def test_burst_while_down_is_filled_from_a_rest_api_found_by_itself(
    database_url: str,
) -> None:
    """No ``wordpress =`` line: the feed's Link header names the REST API."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server, announce_api=True)
        now = datetime.now(UTC).replace(tzinfo=None)
        site.publish([Post(n, now - timedelta(hours=5, minutes=n), "Georgia") for n in (1, 2)])
        catalog = make_catalog([], feeds=[{"url": server.url("/feed/"), "language": "en"}])
        settings = make_settings(api, database_url)

        await poll_and_send(settings, catalog)  # first sight: nothing posted, API found
        assert api.messages_to(GEORGIA_CHANNEL) == [] == api.messages_to(ARMENIA_CHANNEL)
        assert site.rest_queries == []  # no gap to fill yet

        burst = [
            Post(100 + n, now - timedelta(hours=4) + timedelta(minutes=5 * n), region)
            for n, region in enumerate(["Georgia", "Armenia"] * 12 + ["Georgia"])
        ]
        site.publish(burst)  # the feed now shows only the 10 newest of 25
        await poll_and_send(settings, catalog)  # restart
        await poll_and_send(settings, catalog)  # and once more: nothing new

        posted = [m.plain_text for m in api.messages_to(GEORGIA_CHANNEL)]
        posted += [m.plain_text for m in api.messages_to(ARMENIA_CHANNEL)]
        for post in burst:
            assert sum(post.title in text for text in posted) == 1, post.title
        assert len(posted) == 25
        assert site.rest_queries, "the gap was filled from the REST API"
        assert api.limit_violations == 0
