"""Which stories are breaking: the catalog's ``breaking`` categories (per language, names or
slugs) or a CMS push that says so; breaking rows go ahead of the queue and skip digests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import fold_term, parse_catalog
from bot.errors import ConfigError
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, articles, outbox, rig

OUTLET = {"name": "Caucasus Wire", "site": SITE, "languages": ["en", "ru"]}


def catalog(breaking: Any, feed_url: str = "https://o.example/feed/") -> Any:
    return parse_catalog(
        {
            "outlet": {**OUTLET, "breaking": breaking},
            "regions": [{"code": "georgia", "name": "Georgia", "keywords": ["georgia"]}],
            "feeds": [{"url": feed_url, "language": "en"}],
            "channels": [
                {
                    "chat": "@cw_georgia",
                    "regions": ["georgia"],
                    "language": "en",
                    "pin_breaking_hours": 3,
                }
            ],
        }
    )


def test_breaking_terms_per_language_or_for_all() -> None:
    shared = catalog(["Breaking News", "срочно"])
    assert shared.breaking_terms("en") == shared.breaking_terms("ru")
    assert "breaking-news" in shared.breaking_terms("en")
    split = catalog({"en": ["breaking"], "ru": ["Срочно"]})
    assert split.breaking_terms("en") == {"breaking"}
    assert split.breaking_terms("ru") == {"срочно"}
    assert fold_term("Breaking_News") == fold_term("breaking-news") == "breaking-news"


def test_unknown_language_and_bad_channel_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigError) as bad_language:
        catalog({"de": ["eilmeldung"]})
    assert "outlet.breaking.de" in str(bad_language.value)
    data = {
        "outlet": OUTLET,
        "channels": [
            {"chat": "@cw_one", "language": "en", "link_preview": "huge", "pin_breaking_hours": -1}
        ],
    }
    with pytest.raises(ConfigError) as bad_channel:
        parse_catalog(data)
    assert "channels[0].link_preview" in str(bad_channel.value)
    assert "channels[0].pin_breaking_hours" in str(bad_channel.value)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_a_breaking_category_makes_the_story_breaking_and_pinned(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    clock = FakeClock()
    cat = catalog({"en": ["breaking-news"]}, server.url("/feed/"))
    item = {
        "post_id": 1,
        "title": "Tbilisi quiet day",
        "description": "<p>Nothing happened in Tbilisi, Georgia. Really nothing.</p>",
        "categories": ["Georgia"],
        "pubDate": (clock.now() - timedelta(hours=1)).replace(tzinfo=UTC),
    }
    server.set_feed("/feed/", wordpress_feed([item], site=SITE))
    async with rig(sessions, cat, clock=clock) as r:
        await r.ingestor.poll(cat.feeds[0], force=True)  # first poll: history
        urgent = {
            **item,
            "post_id": 2,
            "title": "Georgia: parliament dissolved",
            "categories": ["Georgia", "Breaking News"],
            "pubDate": clock.now().replace(tzinfo=UTC),
        }
        calm = {**item, "post_id": 3, "title": "Georgia: museum reopens"}
        server.set_feed("/feed/", wordpress_feed([urgent, calm, item], site=SITE))
        await r.ingestor.poll(cat.feeds[0], force=True)
    stored = {a.title: a for a in await articles(sessions)}
    assert stored["Georgia: parliament dissolved"].breaking
    assert not stored["Georgia: museum reopens"].breaking
    rows = {row.article_id: row for row in await outbox(sessions)}
    urgent_row = rows[stored["Georgia: parliament dissolved"].id]
    calm_row = rows[stored["Georgia: museum reopens"].id]
    assert urgent_row.priority < calm_row.priority
    assert urgent_row.unpin_at == clock.now() + timedelta(hours=3)
    assert calm_row.unpin_at is None
