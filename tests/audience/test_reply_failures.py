"""A reply to a command that Telegram refuses is read by the sender's one interpretation
(``bot.telegram.publisher.interpret``) and acted on as after a post: a reader who blocked
the bot is deactivated, a group that became a supergroup is followed. Against the fake Bot
API, on both databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.audience.support import NOON, bot_running, next_from_bot, subscription, tap
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

READER = 9401
ADMIN = 9402
GROUP = -4400000001
SUPERGROUP = -1002400000002


async def eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait (up to 10 s) until ``read()`` gives ``expected``: errors are handled after
    the update, asynchronously."""
    for _ in range(100):
        if await read() == expected:
            return
        await asyncio.sleep(0.1)
    assert await read() == expected


async def test_a_reply_refused_with_403_deactivates_the_reader(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start georgia-en")  # subscribed at once
        await next_from_bot(api, READER, "sendMessage", 1)

        async def active() -> bool | None:
            row, _ = await subscription(parts, READER)
            return None if row is None else row.active

        assert await active() is True
        api.block_chat(READER)
        api.push_message(READER, READER, "/help")
        await eventually(active, False)  # as the sender does after a post's 403


async def test_a_reply_refused_as_migrated_follows_the_group(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.set_chat(GROUP, "group", title="CW Group")
        api.set_member(GROUP, ADMIN, "creator")
        api.set_member(GROUP, api.bot_user["id"], "member")
        api.push_chat_shared(ADMIN, 2, GROUP)
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        assert len(api.messages_to(GROUP)) == 1  # the test post

        api.set_chat(SUPERGROUP, "supergroup", title="CW Group")
        api.fail_next(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": SUPERGROUP},
        )
        api.push_message(GROUP, ADMIN, "/help", chat_type="group")

        async def kind_at_new_address() -> str | None:
            row, _ = await subscription(parts, SUPERGROUP)
            return None if row is None else row.kind

        await eventually(kind_at_new_address, "supergroup")
        _, regions = await subscription(parts, SUPERGROUP)
        assert regions == ["georgia"]
