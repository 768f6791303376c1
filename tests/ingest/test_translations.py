"""Languages of one story: hreflang alternates become a "Read in: RU · KA" row of buttons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.i18n import Translator
from bot.outbox.compose import MAX_ROW_BUTTONS, PostBuilder, parse_alternates
from bot.outbox.queue import Delivery
from bot.storage.models import OutboxRow
from scheduler.translations import polylang_ids, wpml_alternates
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, atom_feed, wordpress_feed
from tests.ingest.support import FAST, FakeWordPress, Post, article_page, articles, catalog_for, rig

SITE = "https://caucasus-wire.example"
LANGUAGES = ["en", "ru", "ka", "hy", "az"]


def builder() -> PostBuilder:
    catalog = make_catalog([])
    return PostBuilder(catalog, Translator.load(LANGUAGES, "en"))


def delivery(alternates: list[list[str]] | str, *, language: str = "en") -> Delivery:
    raw = alternates if isinstance(alternates, str) else json.dumps(alternates)
    return Delivery(
        id=1,
        attempts=0,
        plain_text=False,
        chat_pk=1,
        address="-1001",
        thread_id=0,
        chat_kind="channel",
        chat_language=language,
        article_id=9,
        title="Tbilisi council approves the budget",
        url=f"{SITE}/en/9/",
        summary="The council voted on Tuesday.",
        regions=("georgia",),
        alternates=raw,
    )


def read_in_row(message_rows: tuple[tuple[Any, ...], ...]) -> list[tuple[str, str]]:
    rows = [row for row in message_rows if row and row[0].text.startswith("Read in")]
    assert len(rows) <= 1
    return [(b.text, b.url) for b in rows[0]] if rows else []


def test_alternates_in_catalog_languages_become_one_row_in_catalog_order() -> None:
    pairs = [
        ["ka", f"{SITE}/ka/9/"],
        ["de", f"{SITE}/de/9/"],  # not an outlet language
        ["ru-RU", f"{SITE}/ru/9/"],
        ["en", f"{SITE}/en/9/"],  # this version itself
    ]
    message = builder().build(delivery(pairs))
    assert read_in_row(message.buttons) == [
        ("Read in: RU", f"{SITE}/ru/9/"),
        ("KA", f"{SITE}/ka/9/"),
    ]


def test_no_alternates_no_row_and_bad_data_is_ignored() -> None:
    assert read_in_row(builder().build(delivery([])).buttons) == []
    assert read_in_row(builder().build(delivery("{not json")).buttons) == []
    assert parse_alternates('[["ru", "javascript:alert(1)"], ["ka"], 5]') == []


def test_the_row_stays_within_telegrams_limit() -> None:
    many = [[f"x{n}", f"{SITE}/x{n}/"] for n in range(20)] + [["ru", f"{SITE}/ru/"]]
    row = read_in_row(builder().build(delivery(many)).buttons)
    assert row == [("Read in: RU", f"{SITE}/ru/")]
    assert MAX_ROW_BUTTONS == 8


async def test_a_feed_entry_with_hreflang_alternates_is_posted_with_the_buttons(
    database_url: str,
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        entry = {
            "id": f"{SITE}/?p=9",
            "title": "Tbilisi council approves the budget",
            "link": f"{SITE}/en/9/",
            "alternates": [("ru", f"{SITE}/ru/9/"), ("ka", f"{SITE}/ka/9/"), ("de", f"{SITE}/d/")],
            "summary": "<p>The city council met on Tuesday. Members debated it for hours.</p>",
            "categories": ["Georgia"],
            "published": datetime.now(UTC) - timedelta(hours=1),
        }
        server.set_feed("/atom/", atom_feed([entry], link=f"{SITE}/", language="en"))
        feeds = [{"url": server.url("/atom/"), "language": "en", "backlog": 1}]
        catalog = make_catalog([], feeds=feeds)
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

        [post] = api.messages_to(GEORGIA_CHANNEL)
        assert post.reply_markup is not None
        rows = post.reply_markup["inline_keyboard"]
        read_in = [row for row in rows if row[0]["text"].startswith("Read in")]
        assert [[(b["text"], b["url"]) for b in row] for row in read_in] == [
            [("Read in: RU", f"{SITE}/ru/9/"), ("KA", f"{SITE}/ka/9/")]
        ]


async def test_a_translation_published_later_updates_the_article_without_edits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with FeedServer() as server:
        clock = FakeClock(datetime.now(UTC).replace(tzinfo=None))
        entry: dict[str, Any] = {
            "id": f"{SITE}/?p=9",
            "title": "Tbilisi council approves the budget",
            "link": f"{SITE}/en/9/",
            "summary": "<p>The city council met on Tuesday. Members debated it for hours.</p>",
            "categories": ["Georgia"],
            "published": clock.now().replace(tzinfo=UTC) - timedelta(hours=1),
        }
        server.set_feed("/atom/", atom_feed([entry], link=f"{SITE}/"))
        catalog = catalog_for([{"url": server.url("/atom/"), "backlog": 1}])
        async with rig(sessions, catalog, clock=clock, fetch_pages=False) as r:
            await r.ingestor.poll_all()
            later = {**entry, "alternates": [("ru", f"{SITE}/ru/9/")]}
            server.set_feed("/atom/", atom_feed([later], link=f"{SITE}/"))
            clock.advance(600)
            await r.ingestor.poll_all()
        [article] = await articles(sessions)
        assert parse_alternates(article.alternates) == [("ru", f"{SITE}/ru/9/")]
        async with sessions() as session:
            assert (
                list(await session.scalars(select(OutboxRow).where(OutboxRow.kind == "edit"))) == []
            )


def test_wpml_and_polylang_fields_are_read_and_bad_ones_ignored() -> None:
    wpml = {
        "id": 1,
        "wpml_current_locale": "en_US",
        "wpml_translations": [
            {"locale": "ru_RU", "id": 7, "href": f"{SITE}/ru/7/"},
            {"locale": "en_US", "id": 1, "href": f"{SITE}/1/"},  # itself
            {"locale": "ka_GE", "id": 8, "href": "javascript:alert(1)"},
            "junk",
            {"locale": 5, "href": f"{SITE}/x/"},
        ],
    }
    assert wpml_alternates(wpml) == [("ru_RU", f"{SITE}/ru/7/")]
    polylang = {"id": 2, "lang": "en", "translations": {"en": 2, "ru": 9, "hy": True, "az": -1}}
    assert polylang_ids(polylang) == {"ru": 9}
    assert polylang_ids({"id": 2, "translations": [3, 4]}) == {}
    assert wpml_alternates({"wpml_translations": {"ru": 3}}) == []


@pytest.mark.parametrize("plugin", ["wpml", "polylang"])
async def test_a_multilingual_wordpress_site_gives_read_in_buttons_end_to_end(
    database_url: str, plugin: str
) -> None:
    """A WordPress feed (no hreflang in RSS) on a site with WPML or Polylang; no
    ``wordpress =`` line: the REST API is found from the feed, and the translations
    it lists become the "Read in" row under the post."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server, announce_api=True)
        now = datetime.now(UTC).replace(tzinfo=None)
        ru = Post(501, now, "Georgia", link=f"{SITE}/ru/501/")
        ka = Post(502, now, "Georgia", link=f"{SITE}/ka/502/")
        site.hidden = [ru, ka]
        if plugin == "wpml":
            extra: dict[str, Any] = {
                "wpml_current_locale": "en_US",
                "wpml_translations": [
                    {"locale": "ru_RU", "id": 501, "href": ru.link},
                    {"locale": "ka_GE", "id": 502, "href": ka.link},
                ],
            }
        else:
            extra = {"lang": "en", "translations": {"en": 9, "ka": 502, "ru": 501}}
        site.publish([Post(9, now - timedelta(minutes=30), "Georgia", extra=extra)])
        feeds = [{"url": server.url("/feed/"), "language": "en", "backlog": 1}]
        catalog = make_catalog([], feeds=feeds)
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

        [post] = api.messages_to(GEORGIA_CHANNEL)
        assert post.reply_markup is not None
        rows = post.reply_markup["inline_keyboard"]
        read_in = [row for row in rows if row[0]["text"].startswith("Read in")]
        assert [[(b["text"], b["url"]) for b in row] for row in read_in] == [
            [("Read in: RU", ru.link), ("KA", ka.link)]
        ]


async def test_hreflang_links_of_a_fetched_article_page_give_the_buttons(
    database_url: str,
) -> None:
    """A feed item with no description: its page is read for the lead, and the page's
    ``<link rel="alternate" hreflang>`` links become the "Read in" row."""
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        page = article_page("Tbilisi opens a new metro line", "The line opened today.", ["Body."])
        links = (
            f'<link rel="alternate" hreflang="en" href="{server.url("/georgia/101/")}">'
            f'<link rel="alternate" hreflang="ka" href="{SITE}/ka/101/">'
            f'<link rel="alternate" hreflang="ru" href="/ru/101/">'
            f'<link rel="alternate" hreflang="x-default" href="{SITE}/">'
        )
        server.set_feed(
            "/georgia/101/",
            page.replace("</head>", links + "</head>").encode(),
            content_type="text/html; charset=utf-8",
        )
        teaser = {
            "post_id": 101,
            "title": "Tbilisi opens a new metro line",
            "link": server.url("/georgia/101/"),
            "categories": ["Georgia"],
        }
        server.set_feed("/feed/", wordpress_feed([teaser]))
        feeds = [{"url": server.url("/feed/"), "language": "en", "backlog": 1}]
        catalog = make_catalog([], feeds=feeds)
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

        assert server.hits["/georgia/101/"] == 1
        [post] = api.messages_to(GEORGIA_CHANNEL)
        assert "The line opened today." in post.plain_text
        assert post.reply_markup is not None
        rows = post.reply_markup["inline_keyboard"]
        read_in = [row for row in rows if row[0]["text"].startswith("Read in")]
        assert [[(b["text"], b["url"]) for b in row] for row in read_in] == [
            [("Read in: RU", server.url("/ru/101/")), ("KA", f"{SITE}/ka/101/")]
        ]
