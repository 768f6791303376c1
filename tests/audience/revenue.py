"""The running bot with a catalog of one's own: appeals on every post, a cached most-read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.app import Parts, assemble
from bot.catalog import Catalog
from tests.audience.support import SetClock
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI, SentMessage

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


@contextlib.asynccontextmanager
async def running(
    api: FakeBotAPI, database_url: str, clock: SetClock, catalog: Catalog, **settings: Any
) -> AsyncIterator[Parts]:
    """assemble() plus long polling, like ``tests.audience.support.bot_running``."""
    async with assemble(
        make_settings(api, database_url, **settings), catalog, dry_run=False, clock=clock
    ) as parts:
        app = parts.application
        assert app is not None and app.updater is not None
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield parts
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


def has_donate(message: SentMessage) -> bool:
    """Whether a post carries the donate button or the appeal line."""
    markup = message.reply_markup or {}
    labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    return DONATE_LABEL in labels or APPEAL in message.plain_text
