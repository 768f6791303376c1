"""Readers and channel admins hide donation appeals and opt in to the weekly most-read."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import AuditRow, ChatRow
from scheduler.weekly import WeeklyMostRead
from tests.audience.revenue import APPEAL, DONATE_LABEL, has_donate, revenue_catalog, running
from tests.audience.support import NOON, buttons, latest, next_from_bot, publish, subscription, tap
from tests.fakes.botapi import FakeBotAPI, SentMessage
from tests.fakes.clock import FakeClock

READER = 7101
OTHER = 7102
ADMIN = 9101
CHANNEL = -1002000000101


async def test_reader_hides_appeals_for_themselves_and_opts_in_to_weekly(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    catalog = revenue_catalog()
    async with FakeBotAPI() as api, running(api, database_url, clock, catalog) as parts:
        for reader in (READER, OTHER):
            api.push_message(reader, reader, "/start georgia-en", language_code="en")
            await next_from_bot(api, reader, "sendMessage", 1)
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 2)
        menu = latest(api, READER)
        assert menu is not None
        assert "Donation appeals: shown" in menu.plain_text
        assert "Weekly most-read: off" in menu.plain_text

        await tap(api, READER, READER, "Hide donation appeals")
        menu = latest(api, READER)
        assert menu is not None and "Donation appeals: hidden" in menu.plain_text
        assert "Show donation appeals" in buttons(menu)
        row, _ = await subscription(parts, READER)
        other, _ = await subscription(parts, OTHER)
        assert row is not None and row.hide_appeals
        assert other is not None and not other.hide_appeals

        # The next post: no button and no appeal for this reader, both for the other.
        await publish(parts, "g1", "Tbilisi news", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        mine, theirs = api.messages_to(READER)[-1], api.messages_to(OTHER)[-1]
        assert mine.plain_text.startswith("Tbilisi news") and not has_donate(mine)
        assert theirs.plain_text.startswith("Tbilisi news")
        assert APPEAL in theirs.plain_text and DONATE_LABEL in buttons(theirs)

        await press(api, READER, menu, "Show donation appeals")  # the menu, above the post
        row, _ = await subscription(parts, READER)
        assert row is not None and not row.hide_appeals
        await publish(parts, "g2", "Batumi news", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        mine = api.messages_to(READER)[-1]
        assert mine.plain_text.startswith("Batumi news") and has_donate(mine)

        # The weekly most-read: opt in, the old button again changes nothing, opt out.
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 5)
        opt_in = buttons(latest(api, READER))["Get the weekly most-read"]
        await tap(api, READER, READER, "Get the weekly most-read")
        menu = latest(api, READER)
        assert menu is not None and "Weekly most-read: every Monday at 8:00" in menu.plain_text
        assert "Stop the weekly most-read" in buttons(menu)
        weekly = WeeklyMostRead(
            catalog, parts.translator, parts.sessions, parts.services.mostread, clock
        )
        assert [r.address for r in await weekly.due(clock.now())] == [str(READER)]
        query = api.push_callback_query(READER, opt_in, chat_id=READER)
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        assert "expired" not in str(api.callback_answers[qid].get("text"))
        row, _ = await subscription(parts, READER)
        assert row is not None and row.weekly_mostread

        await tap(api, READER, READER, "Stop the weekly most-read")
        row, _ = await subscription(parts, READER)
        assert row is not None and not row.weekly_mostread
        assert "Weekly most-read: off" in latest(api, READER).plain_text  # type: ignore[union-attr]
        assert await weekly.due(clock.now()) == []


async def press(api: FakeBotAPI, user_id: int, message: SentMessage, label: str) -> None:
    """Tap a button under an earlier message (``tap`` takes the latest one)."""
    query = api.push_callback_query(
        user_id, buttons(message)[label], chat_id=message.chat_id, message_id=message.message_id
    )
    qid = str(query["callback_query"]["id"])
    await api.wait_for(lambda: qid in api.callback_answers, within=10)


async def test_channel_admin_toggles_are_checked_and_audited(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        running(api, database_url, clock, revenue_catalog()) as parts,
    ):
        api.set_chat(CHANNEL, "channel", title="CW Private")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, api.bot_user["id"], "administrator", can_post_messages=True)
        api.push_chat_shared(ADMIN, 1, CHANNEL)
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        details = latest(api, ADMIN)
        assert details is not None
        assert "Donation appeals: shown" in details.plain_text
        assert "Weekly most-read: off" in details.plain_text

        await tap(api, ADMIN, ADMIN, "Hide donation appeals")
        await tap(api, ADMIN, ADMIN, "Get the weekly most-read")
        details = latest(api, ADMIN)
        assert details is not None and "Donation appeals: hidden" in details.plain_text
        assert "every Monday at 8:00\u202fAM (UTC)" in details.plain_text
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and row.hide_appeals and row.weekly_mostread

        await publish(parts, "g1", "Tbilisi news", "en", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        post = api.messages_to(CHANNEL)[-1]
        assert post.plain_text.startswith("Tbilisi news") and not has_donate(post)

        # A former admin's button changes nothing, and the refusal is logged too.
        api.set_member(CHANNEL, ADMIN, "member")
        query = api.push_callback_query(
            ADMIN,
            buttons(details)["Stop the weekly most-read"],
            chat_id=ADMIN,
            message_id=details.message_id,
        )
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        assert "Only administrators" in str(api.callback_answers[qid]["text"])
        row, _ = await subscription(parts, CHANNEL)
        assert row is not None and row.weekly_mostread

        async with parts.sessions() as session:
            actions = list(
                await session.scalars(
                    select(AuditRow.action)
                    .join(ChatRow, ChatRow.id == AuditRow.chat_id)
                    .where(ChatRow.address == str(CHANNEL))
                    .order_by(AuditRow.id)
                )
            )
        assert actions[-3:] == ["appeals_hidden", "weekly_on", "refused"]
