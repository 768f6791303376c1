"""Catalog channels: the catalog file is the operator's source of truth for a channel's
editions, language, night silence and link previews (rewritten at every start), so its
admin's card shows them read-only; what the catalog does not set (pause, topics, appeals,
weekly post) stays the admin's across restarts (fake Telegram)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.catalog import Catalog
from bot.storage.models import ChatManagerRow, ChatRow
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    subscription,
    tap,
)
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

ADMIN = 9001
CHANNEL = -1002000000001  # a private channel: no @username
EDITABLE = {"Regions and language", "Disconnect", "🌙 Silent at night", "🔔 Ring at night too"}


def catalog_with(*channels: dict[str, Any]) -> Catalog:
    return make_catalog([], channels=list(channels))


async def test_catalog_channel_card_is_read_only_and_pause_outlasts_a_restart(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    georgia = {"chat": "@cw_georgia", "regions": ["georgia"], "language": "en"}
    async with FakeBotAPI() as api:
        declare_channels(api)
        api.set_member(GEORGIA_CHANNEL, ADMIN, "creator")
        api.set_member(GEORGIA_CHANNEL, api.bot_user["id"], "administrator", can_post_messages=True)
        first = catalog_with({**georgia, "silent_at_night": True})
        async with bot_running(api, database_url, clock, first) as parts:
            # The picker gives the numeric id; the catalog names the channel by @username.
            api.push_chat_shared(ADMIN, 1, GEORGIA_CHANNEL)
            await next_from_bot(api, ADMIN, "sendMessage", 1)
            card = latest(api, ADMIN)
            assert card is not None
            assert "one of the newsroom's own channels" in card.plain_text
            assert "Regions: Georgia" in card.plain_text
            assert "Set by the newsroom in its catalog" in card.plain_text
            assert "Silent from 11:00 PM" in card.plain_text
            labels = set(buttons(card))
            assert "Pause" in labels and not labels & EDITABLE
            assert not any(label.endswith("large") for label in labels)
            async with parts.sessions() as session:
                channels = await session.scalar(
                    select(func.count()).select_from(ChatRow).where(ChatRow.kind == "channel")
                )
                row = await session.scalar(select(ChatRow).where(ChatRow.address == "@cw_georgia"))
                assert row is not None and row.origin == "catalog"
                managers = list(
                    await session.scalars(
                        select(ChatManagerRow.user_id).where(ChatManagerRow.chat_id == row.id)
                    )
                )
            assert channels == 1, "connecting a catalog channel must not add a second row"
            assert managers == [ADMIN]
            await tap(api, ADMIN, ADMIN, "Pause")

        # The operator changes the catalog: its values win at the start, the pause stays.
        second = catalog_with({**georgia, "link_preview": "large"})
        async with bot_running(api, database_url, clock, second) as parts:
            async with parts.sessions() as session:
                row = await session.scalar(select(ChatRow).where(ChatRow.address == "@cw_georgia"))
            assert row is not None and row.paused and row.pause_reason == "admin"
            assert not row.silent_at_night and row.link_preview == "large"
            count = len(api.messages_to(ADMIN))
            api.push_message(ADMIN, ADMIN, "/channels")
            await next_from_bot(api, ADMIN, "sendMessage", count + 2)
            await tap(api, ADMIN, ADMIN, "CW Georgia")
            card = latest(api, ADMIN)
            assert card is not None and "Link previews: large" in card.plain_text
            assert "Resume" in buttons(card) and not set(buttons(card)) & EDITABLE


async def test_old_buttons_cannot_change_a_catalog_setting_and_a_dropped_channel_is_the_admins(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api:
        api.set_chat(CHANNEL, "channel", title="CW Private")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, api.bot_user["id"], "administrator", can_post_messages=True)
        async with bot_running(api, database_url, clock, catalog_with()) as parts:
            api.push_chat_shared(ADMIN, 1, CHANNEL)
            await next_from_bot(api, ADMIN, "sendMessage", 1)
            await tap(api, ADMIN, ADMIN, "Georgia")
            await tap(api, ADMIN, ADMIN, "Done")
            assert "🌙 Silent at night" in buttons(latest(api, ADMIN))

        # The operator adds the channel to the catalog: the admin's card from before is stale.
        listed = {"chat": CHANNEL, "regions": ["armenia"], "language": "en"}
        async with bot_running(api, database_url, clock, catalog_with(listed)) as parts:
            query_id = await tap(api, ADMIN, ADMIN, "🌙 Silent at night")
            assert "newsroom's catalog" in str(api.callback_answers[query_id]["text"])
            row, regions = await subscription(parts, CHANNEL)
            assert row is not None and row.origin == "catalog" and not row.silent_at_night
            assert regions == ["armenia"]
            query_id = await tap(api, ADMIN, ADMIN, "Disconnect")
            assert "newsroom's catalog" in str(api.callback_answers[query_id]["text"])
            row, _ = await subscription(parts, CHANNEL)
            assert row is not None and row.active

        # Dropped from the catalog it stops; its admin may connect it as their own.
        async with bot_running(api, database_url, clock, catalog_with()) as parts:
            row, _ = await subscription(parts, CHANNEL)
            assert row is not None and not row.active
            count = len(api.messages_to(ADMIN))
            api.push_chat_shared(ADMIN, 1, CHANNEL)
            await next_from_bot(api, ADMIN, "sendMessage", count + 1)
            editor = latest(api, ADMIN)
            assert editor is not None and "is connected" in editor.plain_text
            assert "✅ English" in buttons(editor)
            row, _ = await subscription(parts, CHANNEL)
            assert row is not None and row.active and row.origin == "user"
