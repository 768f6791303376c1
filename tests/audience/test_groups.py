"""Groups and forums: Done needs a region, startgroup= links, forum topics by name."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

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
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

ADMIN = 9101
READER = 9102
CHANNEL = -1002100000001


async def eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait (up to 5 s) until ``read()`` gives ``expected``: handlers run asynchronously."""
    for _ in range(50):
        if await read() == expected:
            return
        await asyncio.sleep(0.1)
    assert await read() == expected


async def test_done_without_a_region_is_refused_with_a_hint(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        bot_id = api.bot_user["id"]
        api.set_chat(CHANNEL, "channel", title="CW Empty")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)

        # A channel admin in Russian: Done with nothing chosen is answered, nothing is sent.
        api.push_chat_shared(ADMIN, 1, CHANNEL)
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        api.set_user(ADMIN, language_code="ru")
        editor = latest(api, ADMIN)
        query = api.push_callback_query(
            ADMIN,
            buttons(editor)["Done"],
            chat_id=ADMIN,
            message_id=editor.message_id,  # type: ignore[union-attr]
            language_code="ru",
        )
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        answer = api.callback_answers[qid]
        assert "хотя бы один регион" in str(answer["text"]) and answer.get("show_alert")
        assert api.messages_to(CHANNEL) == []
        assert "Done" in buttons(latest(api, ADMIN))  # the editor stays as it was

        api.set_user(ADMIN, language_code="en")
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        assert len(api.messages_to(CHANNEL)) == 1
        _, regions = await subscription(parts, CHANNEL)
        assert regions == ["georgia"]

        # A reader's first region screen: the same refusal, then the summary once chosen.
        api.push_message(READER, READER, "/start")
        await next_from_bot(api, READER, "sendMessage", 1)
        await tap(api, READER, READER, "Choose regions")
        qid = await tap(api, READER, READER, "Done")
        assert "at least one region" in str(api.callback_answers[qid]["text"])
        assert "Done" in buttons(latest(api, READER))
        await tap(api, READER, READER, "Armenia")
        await tap(api, READER, READER, "Done")
        summary = latest(api, READER)
        assert summary is not None and "1 region: Armenia" in summary.plain_text


GROUP = -1003100000001


async def test_startgroup_link_connects_the_group_with_its_edition(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        bot = api.bot_user
        api.set_chat(GROUP, "supergroup", title="Tbilisi Readers")
        api.set_member(GROUP, ADMIN, "administrator", can_change_info=True)
        api.set_member(GROUP, READER, "administrator", can_change_info=False)
        api.set_member(GROUP, bot["id"], "member")
        command = f"/start@{bot['username']}"

        # A link naming no edition gets a friendly answer; nothing is connected.
        api.push_message(GROUP, ADMIN, f"{command} atlantis-en")
        await next_from_bot(api, GROUP, "sendMessage", 1)
        assert "link didn't work" in api.messages_to(GROUP)[-1].plain_text
        assert (await subscription(parts, GROUP))[0] is None

        # An admin without the right to change the group's info is refused, as with /settings.
        api.push_message(GROUP, READER, f"{command} georgia-ru", language_code="ru")
        await next_from_bot(api, GROUP, "sendMessage", 2)
        assert "изменять информацию" in api.messages_to(GROUP)[-1].plain_text
        assert (await subscription(parts, GROUP))[0] is None

        api.push_message(GROUP, ADMIN, f"{command} georgia-ru")
        await next_from_bot(api, GROUP, "sendMessage", 3)
        editor = api.messages_to(GROUP)[-1]
        assert "Tbilisi Readers is connected: Georgia · Русский" in editor.plain_text
        assert {"✅ Georgia", "✅ Русский", "Done"} <= set(buttons(editor))
        row, regions = await subscription(parts, GROUP)
        assert row is not None and row.active and row.language == "ru"
        assert regions == ["georgia"] and row.thread_id == 0

        await tap(api, ADMIN, GROUP, "Done")
        test_post = api.messages_to(GROUP)[-1]
        assert "тестов" in test_post.plain_text.lower()

        # The short form (the region alone) takes the admin's language; it adds a region.
        api.push_message(GROUP, ADMIN, "/start armenia")
        await next_from_bot(api, GROUP, "sendMessage", 5)
        row, regions = await subscription(parts, GROUP)
        assert row is not None and row.language == "en" and regions == ["armenia", "georgia"]


FORUM = -1003200000001


async def test_forum_topic_connected_by_link_is_shown_and_renamed_by_name(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        bot = api.bot_user
        api.set_chat(FORUM, "supergroup", title="Caucasus Readers", is_forum=True)
        api.set_member(FORUM, ADMIN, "creator")
        api.set_member(FORUM, bot["id"], "member")
        economy = api.push_forum_topic_created(FORUM, ADMIN, "Economy")
        other = api.push_forum_topic_created(FORUM, ADMIN, "Chatter")

        api.push_message(
            FORUM, ADMIN, f"/start@{bot['username']} georgia", message_thread_id=economy
        )
        await next_from_bot(api, FORUM, "sendMessage", 1)
        editor = api.messages_to(FORUM)[-1]
        assert str(editor.params.get("message_thread_id")) == str(economy)
        assert "Caucasus Readers › Economy is connected: Georgia · English" in editor.plain_text
        await tap(api, ADMIN, FORUM, "Done")
        assert (
            "I've sent a test post to Caucasus Readers › Economy" in latest(api, FORUM).plain_text
        )  # type: ignore[union-attr]

        # The editions reach that topic, not the others.
        await publish(parts, "g1", "Tbilisi budget", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        post = api.messages_to(FORUM)[-1]
        assert post.plain_text.startswith("Tbilisi budget")
        assert str(post.params.get("message_thread_id")) == str(economy)

        # A rename follows; an icon change and other topics' news leave the name alone.
        api.push_forum_topic_edited(FORUM, ADMIN, economy, "Money <&> Markets")
        api.push_forum_topic_edited(FORUM, ADMIN, economy)
        api.push_forum_topic_edited(FORUM, ADMIN, other, "Off topic")
        await api.wait_for(lambda: api.pending_updates == 0, within=10)

        async def topic_name() -> str | None:
            row, _ = await subscription(parts, FORUM)
            return row.topic_name if row is not None else None

        await eventually(lambda: topic_name(), "Money <&> Markets")
        # /settings again in the topic: its messages still carry the first name; it stays.
        count = len(api.messages_to(FORUM))
        api.push_message(FORUM, ADMIN, "/settings", message_thread_id=economy)
        await next_from_bot(api, FORUM, "sendMessage", count + 1)
        assert "Caucasus Readers › Money <&> Markets" in api.messages_to(FORUM)[-1].plain_text

        api.push_message(ADMIN, ADMIN, "/channels")
        await next_from_bot(api, ADMIN, "sendMessage", 2)
        listing = latest(api, ADMIN)
        assert listing is not None
        assert "Caucasus Readers › Money <&> Markets — posting" in listing.plain_text
        assert "Caucasus Readers › Money <&> Markets" in buttons(listing)
