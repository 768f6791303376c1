"""A running bot, a WordPress site and the Bot API emulator: a signed push sent in two TCP
writes is accepted, its article read from the REST API once and posted once; the same
request again, or one signed too long ago, changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from bot.web.ingest import WINDOW
from tests.e2e.support import (
    ARMENIA_CHANNEL,
    declare_channels,
    make_catalog,
    make_settings,
    running,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import REST, SITE, FakeWordPress, Post
from tests.revenue.support import free_port
from tests.web.test_ingest_wire import send_raw, signed_head

SECRET = "cms-shared-secret-0123456789"  # the one test_ingest_wire signs with


async def test_a_push_in_two_writes_is_posted_once_and_replays_do_nothing(
    database_url: str,
) -> None:
    port = free_port()
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        now = datetime.now(UTC).replace(tzinfo=None)
        site.publish([Post(1, now - timedelta(hours=2), "Georgia")])
        feed = {"url": server.url("/feed/"), "language": "en", "interval": 3600}
        catalog = make_catalog([], feeds=[{**feed, "wordpress": server.url(REST)}])
        settings = make_settings(api, database_url, web_port=port, ingest_secret=SECRET)
        async with running(settings, catalog):
            await api.wait_for(lambda: server.hits["/feed/"] >= 1, within=15)
            await api.wait_for(lambda: bool(api.commands), within=10)
            post = Post(2, now, "Armenia")  # in the REST API, not yet in the feed
            site.posts.append(post)
            server.set_handler(f"{REST}posts/2", site._one(post))
            body = json.dumps({"post_id": 2, "url": f"{SITE}/2/"}).encode()
            request = signed_head(body) + body
            status, _ = await send_raw(port, [request[:-7], request[-7:]])
            assert status == 202
            await api.wait_for(lambda: bool(api.messages_to(ARMENIA_CHANNEL)), within=10)

            again, answer = await send_raw(port, [request])
            stale = signed_head(body, at=int(time.time()) - WINDOW - 1) + body
            refused, _ = await send_raw(port, [stale])
            await asyncio.sleep(1.0)
            assert (again, refused) == (202, 401)
            assert json.loads(answer)["repeat"] is True
            messages = api.messages_to(ARMENIA_CHANNEL)
            assert len(messages) == 1 and "Yerevan story" in messages[0].plain_text
            assert server.hits[f"{REST}posts/2"] == 1
