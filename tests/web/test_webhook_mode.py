"""Webhook mode registers what Telegram needs; polling mode removes a webhook left behind;
the update types asked for cover every registered handler."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import telegram
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
)

from bot.app import assemble, run
from bot.config import Settings
from bot.telegram.preflight import check_webhook
from handlers.registry import ALLOWED_UPDATES
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI, ptb_bot
from tests.revenue.support import free_port

PUBLIC = "https://bot.example.org/telegram"
# PTB's default message filters accept these too, but Telegram sends them only to bots a
# Telegram Business account connected, or as guests of other bots: never to this one.
NOT_FOR_THIS_BOT = {"business_message", "edited_business_message", "guest_message"}


async def run_until(settings: Settings, done: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, make_catalog([]), dry_run=False, stop=stop))
    try:
        await done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_webhook_then_polling_against_the_fake_bot_api(database_url: str) -> None:
    async with FakeBotAPI() as api:
        webhook = make_settings(
            api,
            database_url,
            web_port=free_port(),
            webhook_url=PUBLIC,
            webhook_secret="a-webhook-secret-of-some-length",
            webhook_max_connections=12,
        )
        await run_until(webhook, lambda: api.wait_for(lambda: api.webhook is not None, 10))
        registered = api.calls("setWebhook")[-1].params
        assert registered["url"] == PUBLIC
        assert registered["secret_token"] == "a-webhook-secret-of-some-length"
        assert int(registered["max_connections"]) == 12
        assert api.webhook is not None
        assert sorted(api.webhook["allowed_updates"]) == sorted(ALLOWED_UPDATES)
        assert not api.calls("getUpdates")
        # What `newsbot check --online` reads back.
        async with ptb_bot(api) as bot:
            assert (await check_webhook(bot, webhook)).problem is False
            api.webhook_error = (int(time.time()), "SSL error {certificate verify failed}")
            failing = await check_webhook(bot, webhook)
        assert failing.problem and "certificate verify failed" in failing.text

        polling = make_settings(api, database_url, web_port=free_port())
        await run_until(polling, lambda: api.wait_for(lambda: bool(api.calls("getUpdates")), 10))
        assert api.calls("deleteWebhook"), "polling must remove the webhook first"
        assert api.webhook is None


SAMPLE_TEXT = {"text": "/id", "entities": [{"type": "bot_command", "offset": 0, "length": 3}]}


def sample_update(kind: str) -> telegram.Update | None:
    """A plausible update of ``kind`` carrying a command, where that kind can."""
    chat = {"id": -1001, "type": "channel" if "channel" in kind else "supergroup", "title": "C"}
    user = {"id": 5, "is_bot": False, "first_name": "U"}
    now = int(datetime.now(UTC).timestamp())
    message = {"message_id": 1, "date": now, "chat": chat, "from": user, **SAMPLE_TEXT}
    if kind.endswith("message") or kind.endswith("channel_post"):
        if kind.endswith("edited_message") or kind.endswith("edited_channel_post"):
            message["edit_date"] = now
        return telegram.Update.de_json({"update_id": 1, kind: message}, None)
    return None


def handler_kinds(handler: BaseHandler[Any, Any, Any]) -> set[str]:
    """The update types ``handler`` takes; fails for a handler this test does not know."""
    if isinstance(handler, CallbackQueryHandler):
        return {"callback_query"}
    if isinstance(handler, PreCheckoutQueryHandler):
        return {"pre_checkout_query"}
    if isinstance(handler, InlineQueryHandler):
        return {"inline_query"}
    if isinstance(handler, ChatMemberHandler):
        return {
            ChatMemberHandler.MY_CHAT_MEMBER: {"my_chat_member"},
            ChatMemberHandler.CHAT_MEMBER: {"chat_member"},
        }.get(handler.chat_member_types, {"my_chat_member", "chat_member"})
    if isinstance(handler, CommandHandler | MessageHandler):
        kinds = set()
        for kind in telegram.Update.ALL_TYPES:
            update = sample_update(kind)
            if update is not None and handler.filters.check_update(update):
                kinds.add(kind)
        return kinds
    raise AssertionError(f"{type(handler).__name__}: add its update type to ALLOWED_UPDATES")


async def test_allowed_updates_cover_every_registered_handler(database_url: str) -> None:
    async with FakeBotAPI() as api:
        settings = make_settings(api, database_url)
        async with assemble(settings, make_catalog([]), dry_run=False) as parts:
            assert parts.application is not None
            handlers = [h for group in parts.application.handlers.values() for h in group]
    taken = set().union(*(handler_kinds(h) for h in handlers)) - NOT_FOR_THIS_BOT
    assert taken - set(ALLOWED_UPDATES) == set(), "handled but never asked of Telegram"
    assert {"channel_post", "callback_query", "my_chat_member", "inline_query"} <= taken
