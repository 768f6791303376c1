"""/id: a chat's numeric id for operators and the chat's administrators, through the fake
Bot API (groups, forum topics, channel posts, forwards, and private chats)."""

from __future__ import annotations

import time

from telegram import Chat

from handlers.ids import chat_id_text
from tests.audience.support import NOON, bot_running
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

OPERATOR, GROUP_ADMIN, READER = 4242, 5151, 6161
GROUP, CHANNEL = -1002000000001, -1002000000002


def test_the_answer_says_how_to_write_the_chat() -> None:
    chat = Chat(CHANNEL, "channel", title="Armenia", username="cw_armenia")
    text = chat_id_text(chat, thread=7)
    assert f'This channel: "Armenia", id {CHANNEL}' in text
    assert f"[[channels]]\nchat = {CHANNEL}\nthread = 7\n" in text
    assert '(or chat = "@cw_armenia": it is public)' in text
    assert f"NEWSBOT_EDITORS_CHAT_ID={CHANNEL}" in text
    assert "thread" not in chat_id_text(Chat(GROUP, "supergroup", title="Editors"))


async def test_id_in_a_group_for_operators_and_admins_only(database_url: str) -> None:
    async with FakeBotAPI() as api:
        api.set_chat(GROUP, "supergroup", title="Editors", is_forum=True)
        api.set_member(GROUP, GROUP_ADMIN, "administrator")
        api.set_member(GROUP, READER, "member")
        async with bot_running(
            api, database_url, FakeClock(NOON, runs=True), admin_ids=str(OPERATOR)
        ):
            api.push_message(GROUP, READER, "/id")
            api.push_message(GROUP, OPERATOR, "/id")
            await api.wait_for(lambda: len(api.messages_to(GROUP)) == 1, within=10)
            api.push_message(GROUP, GROUP_ADMIN, "/id@newsbot_test_bot", message_thread_id=9)
            await api.wait_for(lambda: len(api.messages_to(GROUP)) == 2, within=10)
        first, second = (m.plain_text for m in api.messages_to(GROUP))
        assert f'This supergroup: "Editors", id {GROUP}' in first
        assert f"chat = {GROUP}\n\nFor alerts" in first
        assert f"chat = {GROUP}\nthread = 9" in second
        # The reader's /id got no answer: both answers went to the operator and the admin.
        assert len(api.messages_to(GROUP)) == 2


async def test_id_posted_in_a_channel_and_in_private(database_url: str) -> None:
    async with FakeBotAPI() as api:
        api.set_chat(CHANNEL, "channel", title="CW Armenia")
        api.set_member(CHANNEL, int(api.bot_user["id"]), "administrator", can_post_messages=True)
        async with bot_running(api, database_url, FakeClock(NOON, runs=True)):
            api.push_message(CHANNEL, GROUP_ADMIN, "/id", chat_type="channel")
            api.push_message(READER, READER, "/id")
            await api.wait_for(lambda: bool(api.messages_to(CHANNEL)), within=10)
            await api.wait_for(lambda: bool(api.messages_to(READER)), within=10)
        assert f'This channel: "CW Armenia", id {CHANNEL}' in api.messages_to(CHANNEL)[0].plain_text
        mine = api.messages_to(READER)[0].plain_text
        assert f"Your Telegram user id: {READER}" in mine
        assert f"NEWSBOT_ADMIN_IDS={READER}" in mine


async def test_a_forward_from_a_channel_answers_operators_and_its_admins(
    database_url: str,
) -> None:
    async with FakeBotAPI() as api:
        channel = api.set_chat(CHANNEL, "channel", title="CW Armenia")
        api.set_member(CHANNEL, GROUP_ADMIN, "administrator")
        origin = {
            "forward_origin": {
                "type": "channel",
                "chat": dict(channel),
                "message_id": 12,
                "date": int(time.time()),
            }
        }
        async with bot_running(
            api, database_url, FakeClock(NOON, runs=True), admin_ids=str(OPERATOR)
        ):
            for user in (OPERATOR, GROUP_ADMIN, READER):
                api.push_message(user, user, "Tbilisi metro at night", extra=origin)
            for user in (OPERATOR, GROUP_ADMIN, READER):
                await api.wait_for(lambda u=user: bool(api.messages_to(u)), within=10)
        for user in (OPERATOR, GROUP_ADMIN):
            assert f"id {CHANNEL}" in api.messages_to(user)[0].plain_text
        # A reader's forward is an ordinary message: the usual hint, and no id.
        reader = api.messages_to(READER)[0].plain_text
        assert str(CHANNEL) not in reader
        assert "I can't reply to messages" in reader
