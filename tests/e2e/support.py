"""Building blocks for end-to-end tests: a catalog and settings pointing at local fakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import run
from bot.catalog import Catalog, parse_catalog
from bot.config import Settings
from tests.fakes.botapi import FakeBotAPI

GEORGIA_CHANNEL = -1001000000001
ARMENIA_CHANNEL = -1001000000002


def make_catalog(feed_urls: list[str], *, interval: int = 180, **extra: Any) -> Catalog:
    data: dict[str, Any] = {
        "outlet": {
            "name": "Caucasus Wire",
            "site": "https://caucasus-wire.example",
            "default_language": "en",
            "languages": ["en", "ru", "ka", "hy", "az"],
        },
        "regions": [
            {
                "code": "georgia",
                "name": {"en": "Georgia", "ru": "Грузия"},
                "keywords": ["georgia", "tbilisi*", "грузия"],
                "timezone": "Asia/Tbilisi",
            },
            {
                "code": "armenia",
                "name": {"en": "Armenia", "ru": "Армения"},
                "keywords": ["armenia", "yerevan*"],
                "timezone": "Asia/Yerevan",
            },
        ],
        "feeds": [{"url": url, "language": "en", "interval": interval} for url in feed_urls],
        "channels": [
            {"chat": "@cw_georgia", "regions": ["georgia"], "language": "en"},
            {"chat": "@cw_armenia", "regions": ["armenia"], "language": "en"},
        ],
        "donate": {
            "text": {"en": "Support independent journalism"},
            "links": [{"label": "Support us", "url": "https://caucasus-wire.example/support/"}],
        },
    }
    data.update(extra)
    return parse_catalog(data)


@contextlib.asynccontextmanager
async def running(settings: Settings, catalog: Catalog) -> AsyncIterator[None]:
    """``newsbot run`` in the background until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, catalog, dry_run=False, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def make_settings(api: FakeBotAPI, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": api.token,
        "telegram_api_url": api.base_url,
        "database_url": database_url,
        "web_port": 0,
        "metrics_port": 0,
        # A loaded test machine may hold a written request back for a while before the
        # fake Bot API (on the same event loop) reads it: pacing with a wide margin.
        "send_reach": 0.1,
        **extra,
    }
    return Settings(_env_file=None, **values)


def declare_channels(api: FakeBotAPI) -> None:
    api.set_chat(GEORGIA_CHANNEL, "channel", title="CW Georgia", username="cw_georgia")
    api.set_chat(ARMENIA_CHANNEL, "channel", title="CW Armenia", username="cw_armenia")


def item(
    post_id: int, title: str, *, categories: list[str], hours_ago: float = 1.0
) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "title": title,
        "link": f"https://caucasus-wire.example/{post_id}/",
        "description": f"<p>{title}. The second sentence explains more.</p>",
        "categories": categories,
        "pubDate": datetime.now(UTC) - timedelta(hours=hours_ago),
    }
