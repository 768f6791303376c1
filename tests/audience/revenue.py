"""The running bot with a catalog of one's own: appeals on every post, a cached most-read."""

from __future__ import annotations

import contextlib
from typing import Any

from bot.app import Parts
from bot.catalog import Catalog
from tests.audience.support import bot_running
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI, SentMessage
from tests.fakes.clock import FakeClock

APPEAL = "Support independent journalism"
DONATE_LABEL = "Support us"


def revenue_catalog() -> Catalog:
    """The e2e catalog with the appeal line on every post and a most-read list that is
    read from the cache (source ``clicks``), not the newest-articles stand-in."""
    return make_catalog(
        [],
        donate={
            "text": {"en": APPEAL},
            "links": [{"label": DONATE_LABEL, "url": "https://caucasus-wire.example/support/"}],
            "appeal_every": 1,
        },
        mostread={"source": "clicks", "limit": 6},
    )


def running(
    api: FakeBotAPI, database_url: str, clock: FakeClock, catalog: Catalog, **settings: Any
) -> contextlib.AbstractAsyncContextManager[Parts]:
    """The audience tests' running bot, with this module's catalog."""
    return bot_running(api, database_url, clock, catalog, **settings)


def has_donate(message: SentMessage) -> bool:
    """Whether a post carries the donate button or the appeal line."""
    markup = message.reply_markup or {}
    labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    return DONATE_LABEL in labels or APPEAL in message.plain_text
