"""Channel and group admins: connect through the picker, choose editions, pause on removal."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.storage.models import AuditRow, ChatRow
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    publish,
    subscription,
    tap,
)
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

ADMIN = 9001
STRANGER = 9002
CHANNEL = -1002000000001  # a private channel: no @username
GROUP = -1003000000001


async def test_admin_connects_a_private_channel_and_removal_pauses_it(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        bot_id = api.bot_user["id"]
        api.set_chat(CHANNEL, "channel", title="CW Private")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, STRANGER, "member")
        api.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)

        api.push_message(ADMIN, ADMIN, "/channels")
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        intro = api.messages_to(ADMIN)[0]
        assert intro.reply_markup is not None
        picker = [b for row in intro.reply_markup["keyboard"] for b in row]
        channel_button = picker[0]["request_chat"]
        assert channel_button["chat_is_channel"] is True
        assert channel_button["user_administrator_rights"]["can_post_messages"] is True
        assert channel_button["bot_administrator_rights"]["can_post_messages"] is True
        assert picker[1]["request_chat"]["chat_is_channel"] is False

        # A member who is not an admin cannot connect it.
        api.push_chat_shared(STRANGER, 1, CHANNEL)
        await next_from_bot(api, STRANGER, "sendMessage", 1)
        assert "Only administrators" in api.messages_to(STRANGER)[-1].plain_text
        row, _ = await subscription(parts, CHANNEL)
        assert row is None

        api.push_chat_shared(ADMIN, 1, CHANNEL)
        await next_from_bot(api, ADMIN, "sendMessage", 2)
        assert "CW Private is connected" in latest(api, ADMIN).plain_text  # type: ignore[union-attr]
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        test_posts = api.messages_to(CHANNEL)
        assert len(test_posts) == 1 and "test post" in test_posts[0].plain_text
        details = latest(api, ADMIN)
        assert details is not None and "test post" in details.plain_text
        assert "Regions: Georgia" in details.plain_text and "posting" in details.plain_text
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and row.kind == "channel" and regions == ["georgia"]

        await publish(parts, "g1", "Tbilisi news", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        assert api.messages_to(CHANNEL)[-1].plain_text.startswith("Tbilisi news")

        # A former admin's buttons change nothing: admin status is checked at every tap.
        api.set_member(CHANNEL, ADMIN, "member")
        query = api.push_callback_query(
            ADMIN, buttons(details)["Pause"], chat_id=ADMIN, message_id=details.message_id
        )
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        assert "Only administrators" in str(api.callback_answers[qid]["text"])
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and not row.paused
        api.set_member(CHANNEL, ADMIN, "creator")

        # Removing the bot pauses the channel (settings kept) and tells the admin once,
        # even when a failed post had already paused it before the update arrived.
        async with parts.sessions.begin() as session:
            stored = await session.scalar(select(ChatRow).where(ChatRow.address == str(CHANNEL)))
            assert stored is not None
            stored.paused = True  # what the outbox does on a 403
        sent_to_admin = len(api.messages_to(ADMIN))
        api.push_my_chat_member(CHANNEL, ADMIN, "left", "administrator")
        await next_from_bot(api, ADMIN, "sendMessage", sent_to_admin + 1)
        assert "removed" in api.messages_to(ADMIN)[-1].plain_text
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and row.paused and regions == ["georgia"]
        await publish(parts, "g2", "While away", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        assert not any("While away" in m.plain_text for m in api.messages_to(CHANNEL))

        # Re-adding it resumes posting.
        api.push_my_chat_member(CHANNEL, ADMIN, "administrator", "left", can_post_messages=True)
        await next_from_bot(api, ADMIN, "sendMessage", sent_to_admin + 2)
        assert "posting has resumed" in api.messages_to(ADMIN)[-1].plain_text
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and not row.paused
        await publish(parts, "g3", "Back again", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        assert api.messages_to(CHANNEL)[-1].plain_text.startswith("Back again")

        # /channels lists it with its edition; pause, then disconnect, from the list.
        count = len(api.messages_to(ADMIN))
        api.push_message(ADMIN, ADMIN, "/channels")
        await next_from_bot(api, ADMIN, "sendMessage", count + 2)
        listing = latest(api, ADMIN)
        assert listing is not None and "CW Private — posting" in listing.plain_text
        assert "Georgia · English" in listing.plain_text
        await tap(api, ADMIN, ADMIN, "CW Private")
        await tap(api, ADMIN, ADMIN, "Pause")
        assert "paused" in latest(api, ADMIN).plain_text  # type: ignore[union-attr]
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and row.paused and row.pause_reason == "admin"
        await tap(api, ADMIN, ADMIN, "Disconnect")
        await tap(api, ADMIN, ADMIN, "Yes, disconnect")
        assert "disconnected" in latest(api, ADMIN).plain_text  # type: ignore[union-attr]
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and not row.active and regions == []

        async with parts.sessions() as session:
            actions = list(await session.scalars(select(AuditRow.action).order_by(AuditRow.id)))
        assert actions[:4] == ["refused", "connect", "region_on", "test_post"]
        assert "bot_removed" in actions and "bot_restored" in actions
        assert actions[-2:] == ["pause", "disconnect"]
        assert api.limit_violations == 0


async def test_group_topic_binding_refusal_and_migration(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        bot_id = api.bot_user["id"]
        api.set_chat(GROUP, "supergroup", title="Caucasus Readers", is_forum=True)
        api.set_member(GROUP, ADMIN, "administrator")
        api.set_member(GROUP, STRANGER, "member")
        api.set_member(GROUP, bot_id, "member")

        api.push_message(GROUP, STRANGER, "/settings", message_thread_id=77)
        await next_from_bot(api, GROUP, "sendMessage", 1)
        assert "only administrators" in api.messages_to(GROUP)[-1].plain_text

        api.push_message(GROUP, ADMIN, "/settings", message_thread_id=77)
        await next_from_bot(api, GROUP, "sendMessage", 2)
        editor = api.messages_to(GROUP)[-1]
        assert editor.params.get("message_thread_id") in (77, "77")
        # The editor's buttons are the admin's: the member who sees them cannot use them.
        query = api.push_callback_query(
            STRANGER, buttons(editor)["Armenia"], chat_id=GROUP, message_id=editor.message_id
        )
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        assert "expired" in str(api.callback_answers[qid]["text"])

        await tap(api, ADMIN, GROUP, "Armenia")
        await tap(api, ADMIN, GROUP, "Done")
        test_post = [m for m in api.messages_to(GROUP) if "test post" in m.plain_text]
        assert test_post and test_post[0].params.get("message_thread_id") in (77, "77")
        async with parts.sessions() as session:
            topic = await session.scalar(select(ChatRow).where(ChatRow.address == str(GROUP)))
        assert topic is not None and topic.thread_id == 77 and topic.kind == "supergroup"

        # Group -> supergroup migration keeps the settings under the new id.
        old_group, new_group = -4001, -1004000000001
        api.set_chat(old_group, "group", title="Old group")
        api.set_member(old_group, ADMIN, "creator")
        api.set_member(old_group, bot_id, "member")
        api.push_message(old_group, ADMIN, "/settings")
        await next_from_bot(api, old_group, "sendMessage", 1)
        await tap(api, ADMIN, old_group, "Georgia")
        api.push_message(old_group, ADMIN, "", extra={"migrate_to_chat_id": new_group})
        await api.wait_for(lambda: api.pending_updates == 0, within=10)

        async def moved() -> bool:
            row, regions = await subscription(parts, new_group)
            return row is not None and regions == ["georgia"]

        for _ in range(50):
            if await moved():
                break
            await asyncio.sleep(0.1)
        assert await moved()


async def test_catalog_channel_by_username_pauses_and_resumes(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        declare_channels(api)
        api.push_my_chat_member(
            GEORGIA_CHANNEL, ADMIN, "kicked", "administrator", username="cw_georgia"
        )
        await api.wait_for(lambda: api.pending_updates == 0, within=10)

        async def paused() -> bool | None:
            async with parts.sessions() as session:
                row = await session.scalar(select(ChatRow).where(ChatRow.address == "@cw_georgia"))
            return row.paused if row is not None else None

        for _ in range(50):
            if await paused():
                break
            await asyncio.sleep(0.1)
        assert await paused() is True
        api.push_my_chat_member(
            GEORGIA_CHANNEL,
            ADMIN,
            "administrator",
            "kicked",
            username="cw_georgia",
            can_post_messages=True,
        )
        for _ in range(50):
            if await paused() is False:
                break
            await asyncio.sleep(0.1)
        assert await paused() is False
