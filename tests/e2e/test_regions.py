"""End to end: the newsroom's categories place an article, and an article that matches no
region goes where ``[outlet] unmatched`` says (nowhere by default), through the whole bot
against a local site and the fake Bot API."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import assemble
from tests.e2e.support import (
    ARMENIA_CHANNEL,
    GEORGIA_CHANNEL,
    declare_channels,
    item,
    make_catalog,
    make_settings,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import FAST

TAGGED = item(201, "Prime minister welcomes the Yerevan talks", categories=["Georgia", "Politics"])
AIRFARES = item(202, "Airfares to Europe drop ahead of winter", categories=["Economy", "Travel"])


def outlet(unmatched: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Caucasus Wire",
        "site": "https://caucasus-wire.example",
        "languages": ["en", "ru", "ka", "hy", "az"],
    }
    if unmatched is not None:
        values["unmatched"] = unmatched
    return values


@pytest.mark.parametrize(
    ("unmatched", "airfares_to"),
    [(None, set()), ("all", {GEORGIA_CHANNEL, ARMENIA_CHANNEL}), ("armenia", {ARMENIA_CHANNEL})],
)
async def test_categories_place_an_article_and_unmatched_follows_the_catalog(
    database_url: str, unmatched: str | None, airfares_to: set[int]
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        server.set_feed("/feed/", wordpress_feed([TAGGED, AIRFARES]))
        feeds = [{"url": server.url("/feed/"), "language": "en", "backlog": 2}]
        regions = [
            {
                "code": "georgia",
                "name": "Georgia",
                "keywords": ["georgia"],
                "categories": ["Georgia"],
            },
            {"code": "armenia", "name": "Armenia", "keywords": ["armenia", "yerevan*"]},
        ]
        catalog = make_catalog([], feeds=feeds, regions=regions, outlet=outlet(unmatched))
        async with assemble(
            make_settings(api, database_url), catalog, dry_run=False, fetch_limits=FAST
        ) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            try:
                await parts.ingestor.poll_all()
                await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()

        def titles(chat: int) -> list[str]:
            return [m.plain_text.split("\n")[0] for m in api.messages_to(chat)]

        # "Georgia" is a category: the title's "Yerevan" (a keyword) does not count.
        assert TAGGED["title"] in titles(GEORGIA_CHANNEL)
        assert TAGGED["title"] not in titles(ARMENIA_CHANNEL)
        got_airfares = {
            c for c in (GEORGIA_CHANNEL, ARMENIA_CHANNEL) if AIRFARES["title"] in titles(c)
        }
        assert got_airfares == airfares_to
        assert len(api.messages_to(GEORGIA_CHANNEL)) + len(api.messages_to(ARMENIA_CHANNEL)) == (
            1 + len(airfares_to)
        )
