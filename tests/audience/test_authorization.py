"""Authorization by rights, not status; operator output only in private; forged payments.

Against the Bot API fake with the real application: an admin whose rights do not cover
what the bot does in a chat (post in a channel, change a group's info) configures
nothing there; operator commands never print their output in a group and their
refusals are throttled; a payment the bot did not invoice is recorded as suspicious,
reported to the editors and not thanked.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.alerts import BatchedAlerts
from bot.storage.models import ChatManagerRow, ChatRow, DonationRow
from handlers.payments import make_payload
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    subscription,
    tap,
)
from tests.e2e.support import make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

CREATOR = 9001
EDITOR = 9003  # an administrator whose rights are set per test
CHANNEL = -1002000000001
GROUP = -1003000000001
OPERATOR = 4242
EDITORS_CHAT = -1009000000009
DONOR = 5550001


async def managers(parts: object, chat: int) -> list[int]:
    sessions = parts.sessions  # type: ignore[attr-defined]
    async with sessions() as session:
        query = (
            select(ChatManagerRow.user_id)
            .join(ChatRow, ChatRow.id == ChatManagerRow.chat_id)
            .where(ChatRow.address == str(chat))
        )
        return sorted(await session.scalars(query))


async def test_channel_admin_without_post_right_configures_nothing(database_url: str) -> None:
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, FakeClock(NOON, runs=True)) as parts,
    ):
        bot_id = api.bot_user["id"]
        api.set_chat(CHANNEL, "channel", title="CW Private")
        api.set_member(CHANNEL, CREATOR, "creator")
        api.set_member(CHANNEL, EDITOR, "administrator", can_post_messages=False)
        api.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)

        # The creator connects it and picks Georgia.
        api.push_chat_shared(CREATOR, 1, CHANNEL)
        await next_from_bot(api, CREATOR, "sendMessage", 1)
        await tap(api, CREATOR, CREATOR, "Georgia")
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and row.active and regions == ["georgia"]

        # An admin who may not post there cannot connect it (and so cannot manage it).
        api.push_chat_shared(EDITOR, 1, CHANNEL)
        await next_from_bot(api, EDITOR, "sendMessage", 1)
        assert "may post messages" in api.messages_to(EDITOR)[-1].plain_text
        assert await managers(parts, CHANNEL) == [CREATOR]

        # Given the right, the same admin may; with it taken away, their buttons do nothing.
        api.set_member(CHANNEL, EDITOR, "administrator", can_post_messages=True)
        api.push_chat_shared(EDITOR, 1, CHANNEL)
        await next_from_bot(api, EDITOR, "sendMessage", 2)
        assert await managers(parts, CHANNEL) == [CREATOR, EDITOR]
        editor_screen = latest(api, EDITOR)
        assert editor_screen is not None
        api.set_member(CHANNEL, EDITOR, "administrator", can_post_messages=False)
        for label in ("Armenia", "✅ Georgia"):
            query = api.push_callback_query(
                EDITOR,
                buttons(editor_screen)[label],
                chat_id=EDITOR,
                message_id=editor_screen.message_id,
            )
            qid = str(query["callback_query"]["id"])
            await api.wait_for(lambda qid=qid: qid in api.callback_answers, within=10)  # type: ignore[misc]
            assert "may post messages" in str(api.callback_answers[qid]["text"])
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and row.active and regions == ["georgia"]


async def test_group_admin_without_info_right_configures_nothing(database_url: str) -> None:
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, FakeClock(NOON, runs=True)) as parts,
    ):
        api.set_chat(GROUP, "supergroup", title="Caucasus Readers")
        api.set_member(GROUP, EDITOR, "administrator", can_change_info=False)
        api.set_member(GROUP, api.bot_user["id"], "member")

        api.push_message(GROUP, EDITOR, "/settings")
        await next_from_bot(api, GROUP, "sendMessage", 1)
        assert "may change its info" in api.messages_to(GROUP)[-1].plain_text
        row, _ = await subscription(parts, GROUP)
        assert row is None

        api.set_member(GROUP, EDITOR, "administrator", can_change_info=True)
        api.push_message(GROUP, EDITOR, "/settings")
        await next_from_bot(api, GROUP, "sendMessage", 2)
        row, _ = await subscription(parts, GROUP)
        assert row is not None and row.active


async def test_operator_commands_answer_only_in_private(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    settings = {"admin_ids": f"{OPERATOR}"}
    async with FakeBotAPI() as api, bot_running(api, database_url, clock, **settings) as parts:
        api.set_chat(GROUP, "supergroup", title="Newsroom")
        async with parts.sessions.begin() as session:
            session.add(
                DonationRow(
                    charge_id="stxSecretCharge",
                    user_id=DONOR,
                    amount=250,
                    currency="XTR",
                    payload="don1",
                    language="en",
                    created_at=clock.now(),
                )
            )
        for command in ("/donations", "/queue", "/stats", "/refund stxSecretCharge"):
            api.push_message(GROUP, OPERATOR, command)
        # In private the operator gets the answer (updates are handled in order, so the
        # group's commands were all handled by then).
        api.push_message(OPERATOR, OPERATOR, "/donations")
        await next_from_bot(api, OPERATOR, "sendMessage", 1)
        assert "stxSecretCharge" in api.messages_to(OPERATOR)[-1].plain_text
        in_group = [m.plain_text for m in api.messages_to(GROUP)]
        # Two hints at most (the refusal budget), and never the operator's output.
        assert len(in_group) == 2
        assert all("private chat" in text for text in in_group)
        assert not any(str(DONOR) in t or "stxSecretCharge" in t for t in in_group)
        assert api.calls("sendPhoto") == [] and api.refunds == []

        # A stranger hammering operator commands is refused twice, then ignored.
        for _ in range(6):
            api.push_message(DONOR, DONOR, "/donations")
        await next_from_bot(api, DONOR, "sendMessage", 2)
        api.push_message(DONOR, DONOR, "/help")  # answered after everything before it
        await next_from_bot(api, DONOR, "sendMessage", 3)
        refusals = [m for m in api.messages_to(DONOR) if "only for the outlet" in m.plain_text]
        assert len(refusals) == 2


async def test_unsigned_payment_is_suspicious_not_thanked(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    settings = {"editors_chat_id": EDITORS_CHAT}
    async with FakeBotAPI() as api, bot_running(api, database_url, clock, **settings) as parts:
        api.set_chat(EDITORS_CHAT, "supergroup", title="Editors")
        forged = make_payload(b"not the bot's key", 250, DONOR)
        api.push_successful_payment(DONOR, 250, forged, telegram_payment_charge_id="stxForged")
        genuine = make_payload(make_settings(api, database_url).signing_key(), 50, DONOR)
        api.push_successful_payment(DONOR, 50, genuine, telegram_payment_charge_id="stxGood")
        await next_from_bot(api, DONOR, "sendMessage", 1)
        thanks = api.messages_to(DONOR)
        assert len(thanks) == 1 and "50" in thanks[0].plain_text

        async with parts.sessions() as session:
            rows = {r.charge_id: r for r in await session.scalars(select(DonationRow))}
        assert rows["stxForged"].suspicious and not rows["stxGood"].suspicious

        assert isinstance(parts.alerts, BatchedAlerts)
        await parts.alerts.flush()  # queued in the outbox: the sender sends it
        await parts.sender.drain(within=20)
        await next_from_bot(api, EDITORS_CHAT, "sendMessage", 1)
        alert = api.messages_to(EDITORS_CHAT)[-1].plain_text
        assert "Suspicious payment" in alert and "stxForged" in alert and "stxGood" not in alert
