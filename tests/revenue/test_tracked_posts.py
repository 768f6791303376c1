"""End to end: with NEWSBOT_PUBLIC_URL, a channel post's buttons are tracked links that
count once and redirect; without it they link straight to the pages."""

from __future__ import annotations

import aiohttp

from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, item, make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.revenue.support import count_clicks, free_port, running, settings_for

ARTICLE = item(103, "Tbilisi opens a new metro line", categories=["Georgia"])
PUBLIC = "https://bot.example"
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile"


def _buttons(api: FakeBotAPI) -> list[str]:
    posts = api.messages_to(GEORGIA_CHANNEL)
    assert len(posts) == 1 and posts[0].reply_markup is not None
    return [b["url"] for row in posts[0].reply_markup["inline_keyboard"] for b in row]


async def test_post_buttons_are_tracked_and_redirect(database_url: str) -> None:
    port, metrics_port = free_port(), free_port()
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed([ARTICLE], site="https://caucasus-wire.example"))
        catalog = make_catalog(
            [], feeds=[{"url": site.url("/feed/"), "language": "en", "backlog": 1}]
        )
        settings = settings_for(
            api, database_url, public_url=PUBLIC, web_port=port, metrics_port=metrics_port
        )
        async with running(settings, catalog):
            await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=10)
            read_more, donate = _buttons(api)
            assert read_more.startswith(f"{PUBLIC}/r/") and donate.startswith(f"{PUBLIC}/r/")
            local = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:

                async def get(url: str, ua: str = BROWSER) -> aiohttp.ClientResponse:
                    response = await http.get(
                        url.replace(PUBLIC, local),
                        headers={"User-Agent": ua},
                        allow_redirects=False,
                    )
                    response.release()
                    return response

                preview = await get(read_more, "TelegramBot (like TwitterBot)")
                first = await get(read_more)
                again = await get(read_more)
                gift = await get(donate)
                altered = await get(read_more[:-1] + ("A" if read_more[-1] != "A" else "B"))
                private = f"http://127.0.0.1:{metrics_port}"
                metrics = await (await http.get(f"{private}/metrics")).text()
        assert 'newsbot_link_taps_total{kind="article",outcome="counted"}' in metrics
        assert preview.status == first.status == again.status == gift.status == 302
        assert first.headers["Location"] == "https://caucasus-wire.example/103/"
        assert gift.headers["Location"] == "https://caucasus-wire.example/support/"
        assert altered.status == 404 and "Location" not in altered.headers
        assert await count_clicks(database_url, "article") == 1
        assert await count_clicks(database_url, "donate") == 1


async def test_without_public_url_buttons_link_directly(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed([ARTICLE], site="https://caucasus-wire.example"))
        catalog = make_catalog(
            [], feeds=[{"url": site.url("/feed/"), "language": "en", "backlog": 1}]
        )
        async with running(settings_for(api, database_url), catalog):
            await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=10)
            assert _buttons(api) == [
                "https://caucasus-wire.example/103/",
                "https://caucasus-wire.example/support/",
            ]
