"""End to end: /mostread against the Bot API fake and a local site, per source type."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.clock import SystemClock
from bot.mostread import MostReadItem, encode_items
from bot.storage.engine import create_engine, session_factory
from bot.storage.migrate import upgrade
from bot.storage.models import MostReadRow
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, item, make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.revenue.support import free_port, running, settings_for

SITE = "https://caucasus-wire.example"
ITEMS = [
    item(201, "Yerevan hosts a film festival", categories=["Armenia"], hours_ago=2),
    item(202, "Tbilisi opens a new metro line", categories=["Georgia"], hours_ago=3),
    item(203, "Weather across the Caucasus", categories=["Georgia", "World"], hours_ago=4),
]
PAGE = f"""<html><body><div class="popular"><ol>
<li><a href="{SITE}/202/">Tbilisi opens a new metro line</a></li>
<li><a href="{SITE}/201/">Yerevan hosts a film festival</a></li>
<li><a href="{SITE}/999/">An older piece &lt;b&gt;not in the feed&lt;/b&gt;</a></li>
</ol></div></body></html>""".encode()
USER, OPERATOR = 5550001, 4242


def popular_posts_json() -> bytes:
    return json.dumps(
        [
            {"title": {"rendered": "Tbilisi opens a new metro line"}, "link": f"{SITE}/202/"},
            {"title": {"rendered": "Yerevan hosts a film festival"}, "link": f"{SITE}/201/"},
        ]
    ).encode()


def catalog_for(site: FeedServer, mostread: dict[str, Any]) -> Any:
    feed = {"url": site.url("/feed/"), "language": "en", "backlog": 3}
    return make_catalog([], feeds=[feed], mostread=mostread)


async def ask(api: FakeBotAPI, user: int, text: str) -> str:
    before = len(api.messages_to(user))
    api.push_message(user, user, text, language_code="en")
    await api.wait_for(lambda: len(api.messages_to(user)) > before, within=10)
    return api.messages_to(user)[-1].plain_text


async def ask_until(api: FakeBotAPI, user: int, text: str, shows: str, within: float = 30) -> str:
    """Asks again until the answer contains ``shows`` (a refresh the bot does in its own time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    reply = await ask(api, user, text)
    while shows not in reply and loop.time() < deadline:
        await asyncio.sleep(0.5)
        reply = await ask(api, user, text)
    return reply


@pytest.mark.parametrize("source", ["html", "wordpress-popular-posts"])
async def test_mostread_lists_the_sites_titles_with_regions(database_url: str, source: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE))
        site.set_feed("/page/", PAGE, content_type="text/html; charset=utf-8")
        site.set_feed("/wpp/", popular_posts_json(), content_type="application/json")
        mostread: dict[str, Any] = (
            {"source": "html", "url": {"en": site.url("/page/")}, "selector": ".popular"}
            if source == "html"
            else {"source": source, "url": {"en": site.url("/wpp/")}}
        )
        settings = settings_for(api, database_url, admin_ids=f"{OPERATOR}")
        path = "/page/" if source == "html" else "/wpp/"
        async with running(settings, catalog_for(site, mostread)):
            await api.wait_for(lambda: site.hits[path] >= 1, within=30)
            await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=30)
            await asyncio.sleep(0.3)
            reply = await ask(api, USER, "/mostread")
            assert "1. Tbilisi opens a new metro line" in reply
            assert "2. Yerevan hosts a film festival" in reply
            assert "#Georgia" in reply and "#Armenia" in reply
            assert "source" not in reply  # readers do not see the operator line
            sent = api.messages_to(USER)[-1]
            assert f'href="{SITE}/202/"' in sent.text
            if source == "html":
                assert "An older piece <b>not in the feed</b>" in reply
            armenia = await ask(api, USER, "/mostread armenia")
            assert "Yerevan hosts a film festival" in armenia
            assert "Tbilisi" not in armenia
            operator = await ask(api, OPERATOR, "/mostread")
            assert f"source {source}" in operator and "updated 0 min ago" in operator


@pytest.mark.exclusive  # times the reply
async def test_a_hanging_source_never_delays_the_reply(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE))
        site.set_hang("/page/")
        mostread = {"source": "html", "url": {"en": site.url("/page/")}, "selector": "a"}
        settings = settings_for(api, database_url, admin_ids=f"{OPERATOR}")
        async with running(settings, catalog_for(site, mostread)):
            await api.wait_for(lambda: site.hits["/page/"] >= 1, within=10)
            await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=10)
            started = time.monotonic()
            reply = await ask(api, USER, "/mostread")
            assert time.monotonic() - started < 5.0  # the source itself may hang for 20 s
            assert "Yerevan hosts a film festival" in reply  # the newest articles stand in
            operator = await ask(api, OPERATOR, "/mostread")
            assert "source latest" in operator and "never fetched" in operator


async def test_an_old_list_is_flagged_to_readers_and_its_age_shown_to_operators(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    async with session_factory(engine).begin() as session:
        session.add(
            MostReadRow(
                language="en",
                items_json=encode_items([MostReadItem("Kept from before", f"{SITE}/1/")]),
                fetched_at=SystemClock().now() - timedelta(hours=3),
                error="HTTP 503",
            )
        )
    await engine.dispose()
    async with FakeBotAPI() as api, FeedServer() as site:
        site.set_feed("/page/", b"down", status=503, content_type="text/html")
        mostread = {"source": "html", "url": {"en": site.url("/page/")}, "selector": "a"}
        catalog = make_catalog([], mostread={**mostread, "refresh": 60})
        settings = settings_for(api, database_url, admin_ids=f"{OPERATOR}")
        async with running(settings, catalog):
            await api.wait_for(lambda: site.hits["/page/"] >= 1, within=10)
            reader = await ask(api, USER, "/mostread")
            assert "1. Kept from before" in reader
            assert "may be out of date" in reader and "HTTP 503" not in reader
            operator = await ask(api, OPERATOR, "/mostread")
            assert "source html · updated 3 h ago · last error: HTTP 503" in operator
            stats = await ask(api, OPERATOR, "/stats")
            assert "Most-read source (html):" in stats
            assert "en: updated 3 h ago; last error: HTTP 503" in stats
            assert "ru: never fetched" in stats


async def test_clicks_source_ranks_what_readers_opened_through_tracked_links(
    database_url: str,
) -> None:
    port, public = free_port(), "https://bot.example"
    browsers = [f"Mozilla/5.0 (Linux; Android 14; Pixel {n}) Chrome/126 Mobile" for n in range(3)]
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed(ITEMS, site=SITE))
        catalog = catalog_for(site, {"source": "clicks", "refresh": 60})
        settings = settings_for(api, database_url, public_url=public, web_port=port)
        async with running(settings, catalog):
            await api.wait_for(lambda: len(api.messages_to(GEORGIA_CHANNEL)) >= 2, within=10)
            posts = api.messages_to(GEORGIA_CHANNEL)
            links = {
                m.plain_text.split("\n")[0]: m.reply_markup["inline_keyboard"][0][0]["url"]
                for m in posts
                if m.reply_markup
            }
            metro = links["Tbilisi opens a new metro line"]
            weather = links["Weather across the Caucasus"]
            async with aiohttp.ClientSession() as http:
                for url, readers in ((metro, browsers[:1]), (weather, browsers)):
                    for ua in [*readers, *readers]:  # each reader twice: counted once
                        response = await http.get(
                            url.replace(public, f"http://127.0.0.1:{port}"),
                            headers={"User-Agent": ua},
                            allow_redirects=False,
                        )
                        assert response.status == 302
        # The next start refreshes the list from the taps.
        async with running(settings, catalog):
            reply = await ask_until(api, USER, "/mostread", shows="1. Weather across the Caucasus")
        assert reply.index("1. Weather across the Caucasus") < reply.index(
            "2. Tbilisi opens a new metro line"
        )
        assert "Yerevan" not in reply  # never opened
