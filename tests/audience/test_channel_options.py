"""A channel admin makes posts silent at night and picks the link preview; a reader turns
breaking-news alerts off. Then the posts go out accordingly (fake Telegram)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from bot.storage.models import AuditRow
from tests.audience.support import (
    bot_running,
    buttons,
    latest,
    next_from_bot,
    publish,
    subscription,
    tap,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

ADMIN = 9001
READER = 9101
CHANNEL = -1002000000001
# 22:30 UTC = 02:30 in Tbilisi: the region's night.
NIGHT = datetime(2026, 3, 2, 22, 30)
# 10:00 UTC = 14:00 in Tbilisi.
DAY = datetime(2026, 3, 3, 10, 0)


async def test_admin_makes_the_channel_silent_at_night_with_large_previews(
    database_url: str,
) -> None:
    clock = FakeClock(NIGHT, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.set_chat(CHANNEL, "channel", title="CW Private")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, api.bot_user["id"], "administrator", can_post_messages=True)
        api.push_chat_shared(ADMIN, 1, CHANNEL)
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        details = latest(api, ADMIN)
        assert details is not None
        assert "Posts ring at any hour" in details.plain_text
        assert "Link previews: auto" in details.plain_text
        assert "✅ auto" in buttons(details)

        await tap(api, ADMIN, ADMIN, "🌙 Silent at night")
        await tap(api, ADMIN, ADMIN, "large")
        details = latest(api, ADMIN)
        assert details is not None
        assert "Silent from 11:00 PM to 8:00 AM" in details.plain_text
        assert "Link previews: large" in details.plain_text
        assert {"✅ large", "🔔 Ring at night too"} <= set(buttons(details))
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and row.silent_at_night and row.link_preview == "large"

        await publish(parts, "n1", "Tbilisi at night", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        [night] = [m for m in api.messages_to(CHANNEL) if "at night" in m.plain_text]
        assert night.params.get("disable_notification") is True
        assert json.loads(night.params["link_preview_options"]) == {"prefer_large_media": True}

        clock.advance(hours=11, minutes=30)  # 14:00 in Tbilisi
        await publish(parts, "d1", "Tbilisi by day", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        [day] = [m for m in api.messages_to(CHANNEL) if "by day" in m.plain_text]
        assert "disable_notification" not in day.params

        await tap(api, ADMIN, ADMIN, "off")
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and row.link_preview == "off"
        async with parts.sessions() as session:
            actions = list(await session.scalars(select(AuditRow.action).order_by(AuditRow.id)))
        assert actions[-3:] == ["silent_on", "link_preview", "link_preview"]


async def test_reader_turns_breaking_alerts_off_and_on(database_url: str) -> None:
    clock = FakeClock(DAY, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start georgia-en", language_code="en")
        await next_from_bot(api, READER, "sendMessage", 1)
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 2)
        menu = latest(api, READER)
        assert menu is not None
        assert "Breaking news: at once, even in quiet hours and digest mode" in menu.plain_text
        row, _ = await subscription(parts, READER)
        assert row is not None and row.breaking_alerts  # on by default

        await tap(api, READER, READER, "No breaking-news alerts")
        menu = latest(api, READER)
        assert menu is not None and "Breaking news: like any other article" in menu.plain_text
        row, _ = await subscription(parts, READER)
        assert row is not None and not row.breaking_alerts

        await tap(api, READER, READER, "Get breaking news at once")
        row, _ = await subscription(parts, READER)
        assert row is not None and row.breaking_alerts
