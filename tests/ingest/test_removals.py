"""Articles the site removes (gone from its WordPress REST API): operators are told, and
with ``[outlet] delete_removed`` the sent messages are deleted (fake Telegram, local site)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.catalog import Catalog
from bot.config import Settings
from bot.storage.models import OutboxRow
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import FAST, REST, FakeWordPress, Post, catalog_for, rig

OUTLET = {
    "name": "Caucasus Wire",
    "site": "https://caucasus-wire.example",
    "languages": ["en", "ru", "ka", "hy", "az"],
}


def unpublish(site: FakeWordPress, post_id: int) -> None:
    site.posts = [p for p in site.posts if p.id != post_id]
    site.publish([])  # the feed is rebuilt without it


async def life(settings: Settings, catalog: Catalog, *, check: bool = False) -> None:
    """Start, poll, send, look for removed articles, send the deletions, stop."""
    async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
        assert parts.application is not None
        await parts.application.initialize()
        try:
            await parts.ingestor.poll_all()
            await parts.sender.drain(within=30)
            if check:
                await parts.ingestor.check_removed()
                await parts.sender.drain(within=30)
        finally:
            await parts.application.shutdown()


def wp_catalog(server: FeedServer, **outlet: Any) -> Catalog:
    feeds = [
        {"url": server.url("/feed/"), "language": "en", "wordpress": server.url(REST), "backlog": 2}
    ]
    return make_catalog([], feeds=feeds, outlet={**OUTLET, **outlet})


async def test_a_removed_article_has_its_messages_deleted_when_switched_on(
    database_url: str,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        now = datetime.now(UTC).replace(tzinfo=None)
        site.publish([Post(n, now - timedelta(hours=n), "Georgia") for n in (1, 2)])
        catalog = wp_catalog(server, delete_removed=True)
        settings = make_settings(api, database_url)
        await life(settings, catalog)
        sent = {m.message_id: m.plain_text for m in api.messages_to(GEORGIA_CHANNEL)}
        assert len(sent) == 2

        unpublish(site, 2)
        await life(settings, catalog, check=True)

        deleted = [int(c.params["message_id"]) for c in api.calls("deleteMessage")]
        assert len(deleted) == 1
        assert "story number 2" in sent[deleted[0]]


async def test_removal_is_only_told_when_switched_off(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        now = datetime.now(UTC).replace(tzinfo=None)
        site.publish([Post(n, now - timedelta(hours=n), "Georgia") for n in (1, 2)])
        catalog = wp_catalog(server)
        settings = make_settings(api, database_url)
        await life(settings, catalog)
        unpublish(site, 2)
        await life(settings, catalog, check=True)
        assert api.calls("deleteMessage") == []


async def test_operators_are_told_once_and_a_failing_api_removes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with FeedServer() as server:
        site = FakeWordPress(server)
        clock = FakeClock(datetime.now(UTC).replace(tzinfo=None))
        site.publish([Post(n, clock.now() - timedelta(hours=n), "Georgia") for n in (1, 2, 3)])
        feeds = [{"url": server.url("/feed/"), "wordpress": server.url(REST), "backlog": 3}]
        async with rig(sessions, catalog_for(feeds), clock=clock) as r:
            await r.ingestor.poll_all()

            async def broken(request: web.Request) -> web.StreamResponse:
                return web.json_response({"code": "internal"}, status=500)

            server.set_handler(REST + "posts", broken)
            unpublish(site, 2)
            assert await r.ingestor.check_removed() == 0
            assert not [a for a in r.alerts.sent if "removed" in a]

            server.set_handler(REST + "posts", site._posts)
            assert await r.ingestor.check_removed() == 1
            assert await r.ingestor.check_removed() == 0  # told once
            [alert] = [a for a in r.alerts.sent if "removed" in a]
            assert "story number 2" in alert and "kept" in alert
        async with sessions() as session:
            assert (
                list(await session.scalars(select(OutboxRow).where(OutboxRow.kind == "delete")))
                == []
            )
