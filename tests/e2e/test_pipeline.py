"""End to end: a feed item becomes exactly one post in the right channel (fake Telegram)."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import assemble
from bot.text.utf16 import utf16_len
from scheduler.fetch import FetchLimits
from tests.e2e.support import (
    ARMENIA_CHANNEL,
    GEORGIA_CHANNEL,
    declare_channels,
    item,
    make_catalog,
    make_settings,
    running,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed

FIRST = [item(101, "Tbilisi opens a new metro line", categories=["Georgia"], hours_ago=3)]
NEW = item(102, "Yerevan hosts a film festival", categories=["Armenia", "Culture"])
NEWER = item(103, "Georgia's parliament & the budget <b>vote</b>", categories=["Georgia"])


@pytest.mark.slow
async def test_new_article_reaches_its_channel_once_and_commands_answer(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/feed/", wordpress_feed(FIRST, site="https://caucasus-wire.example"))
        catalog = make_catalog([site.url("/feed/")], interval=10)
        settings = make_settings(api, database_url)

        async with running(settings, catalog):
            await api.wait_for(lambda: site.hits["/feed/"] >= 1, within=10)
            await api.wait_for(lambda: bool(api.commands), within=10)
            # The first poll marks what is there as seen: nothing is posted.
            await asyncio.sleep(0.5)
            assert api.messages_to(GEORGIA_CHANNEL) == []

            site.set_feed("/feed/", wordpress_feed([NEWER, NEW, *FIRST]))
            # One poll interval (10 s, +15 % jitter) plus 5 s.
            await api.wait_for(
                lambda: (
                    bool(api.messages_to(ARMENIA_CHANNEL))
                    and bool(api.messages_to(GEORGIA_CHANNEL))
                ),
                within=16.5,
            )
            georgia = api.messages_to(GEORGIA_CHANNEL)
            armenia = api.messages_to(ARMENIA_CHANNEL)
            assert len(georgia) == 1 and len(armenia) == 1
            post = georgia[0]
            assert post.parse_mode == "HTML"
            assert "Georgia's parliament & the budget vote" in post.plain_text
            assert "&amp;" in post.text and "<script" not in post.text
            assert "#Georgia" in post.plain_text
            assert post.reply_markup is not None
            buttons = [b for row in post.reply_markup["inline_keyboard"] for b in row]
            assert buttons[0]["url"] == "https://caucasus-wire.example/103/"
            assert any(b["url"] == "https://caucasus-wire.example/support/" for b in buttons)
            assert "Yerevan hosts a film festival" in armenia[0].plain_text

            user = 5550001
            api.push_message(user, user, "/start", language_code="ru")
            api.push_message(user, user, "/mostread", language_code="en")
            api.push_message(user, user, "/donate", language_code="en")
            replies = await api.wait_for_sent(5, within=10)
            to_user = [m for m in replies if m.chat_id == user]
            assert len(to_user) == 3
            start, mostread, donate = to_user
            assert "Caucasus Wire" in start.plain_text
            assert any(ch in start.plain_text for ch in "абвгдежзиклмнопрстуфхцчшщыэюя")
            assert "Georgia's parliament" in mostread.plain_text
            assert "Tbilisi opens a new metro line" in mostread.plain_text
            assert "Support independent journalism" in donate.plain_text
            assert donate.reply_markup is not None

        assert api.limit_violations == 0
        sent_before = len(api.messages_to(GEORGIA_CHANNEL))
        # A restart on the same database does not re-send anything.
        async with running(settings, catalog):
            hits = site.hits["/feed/"]
            await api.wait_for(lambda: site.hits["/feed/"] > hits, within=10)
            await asyncio.sleep(1.0)
        assert len(api.messages_to(GEORGIA_CHANNEL)) == sent_before


async def test_bad_feeds_are_skipped_while_good_ones_flow(database_url: str) -> None:
    async with FakeBotAPI() as api, FeedServer() as site:
        declare_channels(api)
        site.set_feed("/good/", wordpress_feed(FIRST))
        site.set_feed("/broken/", b"<rss><channel><item><title>unclosed")
        site.set_feed("/error/", b"oops", status=500)
        site.set_hang("/hang/")
        cp1251 = (
            '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>'
            "<title>Лента</title><link>https://caucasus-wire.example/ru/</link>"
            "<item><title>Грузия: новости</title><link>https://caucasus-wire.example/ru/1/</link>"
            "<guid>ru-1</guid><description>Первое. Второе.</description></item>"
            "</channel></rss>"
        ).encode("cp1251")
        site.set_feed("/cp1251/", cp1251, content_type="application/rss+xml")
        hostile = [
            {
                "post_id": 900 + n,
                "title": title,
                "link": f"https://caucasus-wire.example/{900 + n}/",
                "description": description,
                "categories": ["Georgia"],
            }
            for n, (title, description) in enumerate(
                [
                    ("<script>alert(1)</script> Tbilisi", "<b>unclosed <i>tags & ampersands"),
                    ("Emoji 👩‍👩‍👧 Georgia " + "🇬🇪" * 20, "x" * 5000),
                    ("Georgia " + "long title " * 60, "<p>" + "Sentence here. " * 400 + "</p>"),
                ]
            )
        ]
        urls = [site.url(p) for p in ("/good/", "/broken/", "/error/", "/hang/", "/cp1251/")]
        catalog = make_catalog(urls)
        settings = make_settings(api, database_url)
        limits = FetchLimits(total_timeout=2.0)
        async with assemble(settings, catalog, dry_run=False, fetch_limits=limits) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            try:
                await parts.ingestor.poll_all()  # first poll: marks as seen
                site.set_feed("/good/", wordpress_feed([*hostile, NEWER, *FIRST]))
                reports = {r.url: r for r in await parts.ingestor.poll_all()}
                await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()
        assert reports[site.url("/good/")].outcome == "new"
        for bad in ("/broken/", "/error/", "/hang/"):
            assert reports[site.url(bad)].outcome == "failed", reports[site.url(bad)]
        assert reports[site.url("/cp1251/")].outcome in ("unchanged", "not_modified")
        georgia = api.messages_to(GEORGIA_CHANNEL)
        assert len(georgia) == 4  # three hostile items and one ordinary one, all valid
        for message in georgia:
            assert utf16_len(message.plain_text) <= 4096
            assert "<script>" not in message.text
