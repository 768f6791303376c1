"""Lead images through the whole bot (fake Telegram that fetches photos by URL, local site).

A post with a lead image reaches its channel as a photo with the post as caption; a post
too long for a caption goes out as text with a large preview of the image; an image
Telegram refuses is followed by the post as text, once; a correction edits the caption;
a channel with ``photos = false`` gets text.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.app import assemble
from bot.catalog import Catalog
from bot.config import Settings
from bot.text.utf16 import utf16_len
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, item, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import FAST

SITE = "https://caucasus-wire.example"
TITLE = "Tbilisi council approves the budget"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def life(settings: Settings, catalog: Catalog, *, corrections: bool = False) -> None:
    """Start, poll, send what is due (and apply due corrections), stop."""
    async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
        assert parts.application is not None and parts.services is not None
        await parts.application.initialize()
        try:
            await parts.ingestor.poll_all()
            await parts.sender.drain(within=30)
            if corrections:  # the edits the poll queued (sent by the same drain)
                await parts.sender.drain(within=30)
        finally:
            await parts.application.shutdown()


def serve_image(server: FeedServer, path: str, content_type: str = "image/jpeg") -> str:
    async def image(_request: web.Request) -> web.Response:
        return web.Response(body=JPEG, content_type=content_type)

    server.set_handler(path, image)
    return server.url(path)


def feed(server: FeedServer, title: str = TITLE, **fields: Any) -> None:
    entry = {**item(7, title, categories=["Georgia"]), **fields}
    server.set_feed("/feed/", wordpress_feed([entry], site=SITE))


def catalog_for(server: FeedServer, **channel: Any) -> Catalog:
    return make_catalog(
        [],
        feeds=[{"url": server.url("/feed/"), "language": "en", "backlog": 1}],
        channels=[{"chat": "@cw_georgia", "regions": ["georgia"], "language": "en", **channel}],
    )


async def test_an_item_with_a_lead_image_is_posted_as_a_photo_with_caption(
    database_url: str,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        image = serve_image(server, "/img/lead.jpg")
        feed(server, media=image)
        await life(make_settings(api, database_url), catalog_for(server))

        [photo] = api.messages_to(GEORGIA_CHANNEL, method=None)
        assert photo.method == "sendPhoto"
        assert photo.params["photo"] == image
        assert TITLE in photo.plain_text  # the post is the caption
        assert any(e.type == "text_link" for e in photo.entities)  # linked title kept
        assert photo.reply_markup is not None  # Read more stays under the photo
        assert api.photo_urls == [image] and server.hits["/img/lead.jpg"] == 1


async def test_an_enclosure_image_counts_and_photos_false_sends_text(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        image = serve_image(server, "/img/enc.png", "image/png")
        feed(server, enclosure=(image, "image/png"))
        await life(make_settings(api, database_url), catalog_for(server, photos=False))
        [post] = api.messages_to(GEORGIA_CHANNEL, method=None)
        assert post.method == "sendMessage"
        assert api.photo_urls == []


async def test_a_post_too_long_for_a_caption_is_text_with_a_large_image_preview(
    database_url: str,
) -> None:
    """The summary fits a message (4096) but not a caption (1024, counted in UTF-16 units
    after entity parsing): text with the image as a large link preview, nothing cut."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        image = serve_image(server, "/img/lead.jpg")
        sentences = " ".join(f"Sentence number {n} of a long 𝕃ead paragraph." for n in range(30))
        feed(server, media=image, description=f"<p>{sentences}</p>")
        settings = make_settings(api, database_url, summary_length=2000)
        await life(settings, catalog_for(server))

        [post] = api.messages_to(GEORGIA_CHANNEL, method=None)
        assert post.method == "sendMessage"
        assert utf16_len(post.plain_text) > 1024
        assert json.loads(post.params["link_preview_options"]) == {
            "url": image,
            "prefer_large_media": True,
        }
        assert api.calls("sendPhoto") == []


async def test_an_image_telegram_refuses_is_followed_by_the_post_as_text_once(
    database_url: str,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        page = serve_image(server, "/img/not-an-image", "text/html")
        feed(server, media=page)
        await life(make_settings(api, database_url), catalog_for(server))

        [refused] = api.calls("sendPhoto")
        assert refused.status == 400
        [post] = api.messages_to(GEORGIA_CHANNEL, method=None)
        assert post.method == "sendMessage" and TITLE in post.plain_text

        await life(make_settings(api, database_url), catalog_for(server))  # nothing more
        assert len(api.calls("sendPhoto")) == 1
        assert len(api.messages_to(GEORGIA_CHANNEL, method=None)) == 1


async def test_a_missing_image_is_also_resent_as_text(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        feed(server, media=server.url("/img/gone.jpg"))  # 404
        await life(make_settings(api, database_url), catalog_for(server))
        assert [c.status for c in api.calls("sendPhoto")] == [400]
        assert [m.method for m in api.messages_to(GEORGIA_CHANNEL, method=None)] == ["sendMessage"]


async def test_a_correction_edits_the_caption_of_a_photo_post(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        image = serve_image(server, "/img/lead.jpg")
        settings = make_settings(api, database_url)
        catalog = catalog_for(server)
        feed(server, media=image)
        await life(settings, catalog)
        [photo] = api.messages_to(GEORGIA_CHANNEL, "sendPhoto")

        fixed = "Tbilisi council approves the 2027 budget"
        feed(server, fixed, media=image)
        await life(settings, catalog, corrections=True)

        [edit] = api.messages_to(GEORGIA_CHANNEL, "editMessageCaption")
        assert edit.message_id == photo.message_id and fixed in edit.plain_text
        assert edit.reply_markup == photo.reply_markup
        assert api.calls("editMessageText") == []
