"""A channel admin's test post (Done after connecting) leaves on the reply path, and
Telegram's answer to it is read by the sender's one interpretation
(``bot.telegram.publisher.interpret``) and acted on as for a post: a 403 pauses the
chat, a long 429 pauses the bot and is not answered as missing rights, a migrated group
is followed and the post sent there. Against the fake Bot API, on both databases.
"""

from __future__ import annotations

from bot.app.parts import Parts
from tests.audience.support import NOON, bot_running, next_from_bot, subscription, tap
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

ADMIN = 9301
CHANNEL = -1002300000001
GROUP = -4300000001
SUPERGROUP = -1002300000002


async def connect(api: FakeBotAPI, chat_id: int, kind: str) -> None:
    """The admin shares ``chat_id`` and picks Georgia: Done (and its test post) is next."""
    bot_id = api.bot_user["id"]
    api.set_chat(chat_id, kind, title="CW Test")
    api.set_member(chat_id, ADMIN, "creator")
    api.set_member(chat_id, bot_id, "administrator", can_post_messages=True)
    api.push_chat_shared(ADMIN, 1 if kind == "channel" else 2, chat_id)
    await next_from_bot(api, ADMIN, "sendMessage", 1)
    await tap(api, ADMIN, ADMIN, "Georgia")


async def done(api: FakeBotAPI) -> str:
    """Tap Done; the text the tap was answered with ("" for none)."""
    qid = await tap(api, ADMIN, ADMIN, "Done")
    return str(api.callback_answers[qid].get("text") or "")


async def paused(parts: Parts, chat_id: int) -> bool:
    row, _ = await subscription(parts, chat_id)
    assert row is not None
    return row.paused


async def test_a_403_to_the_test_post_pauses_the_channel_as_for_a_post(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        await connect(api, CHANNEL, "channel")
        api.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the channel chat")
        answer = await done(api)
        assert "Make me an administrator of CW Test" in answer
        assert api.messages_to(CHANNEL) == []
        assert await paused(parts, CHANNEL)  # what the sender does after a post's 403


async def test_a_long_429_to_the_test_post_is_try_again_not_missing_rights(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        await connect(api, CHANNEL, "channel")
        api.fail_next("sendMessage", 429, "Too Many Requests: retry after 120", retry_after=120)
        answer = await done(api)
        assert "try again in a few minutes" in answer
        assert "administrator" not in answer
        assert api.messages_to(CHANNEL) == []
        assert not await paused(parts, CHANNEL)  # a 429 says nothing about the chat
        # (The reply path's limiter pauses broadcasts too, as a post's 429 does:
        # tests/telegram/test_limiter.py.)


async def test_a_migrated_group_is_followed_and_gets_the_test_post(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        await connect(api, GROUP, "group")
        api.set_chat(SUPERGROUP, "supergroup", title="CW Test")
        api.fail_next(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": SUPERGROUP},
        )
        answer = await done(api)
        assert "administrator" not in answer
        test_posts = api.messages_to(SUPERGROUP)
        assert len(test_posts) == 1 and "test post" in test_posts[0].plain_text
        moved, regions = await subscription(parts, SUPERGROUP)
        assert moved is not None and moved.kind == "supergroup" and regions == ["georgia"]
        old, _ = await subscription(parts, GROUP)
        assert old is None
