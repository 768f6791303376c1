"""No update lost to a crash: updates are stored before Telegram hears they arrived.

The bot runs as a real process. Its replies are held at the fake Bot API so that it has
received (and stored) updates it has not handled yet; then it is SIGKILLed. After the
restart each stored update is handled exactly once: every reader gets one answer, and a
payment received before the kill is on record, so ``/refund`` finds it.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.storage.models import DonationRow, InboxRow
from handlers.payments import make_payload
from tests.crash.support import bot_environment, start_bot
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.exclusive

READERS = [810_000_001 + n for n in range(4)]
PAYER = 820_000_001
OPERATOR = 830_000_001


async def inbox_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(stored, handled) updates."""
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(InboxRow))
        handled = await session.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_not(None))
        )
    return int(stored or 0), int(handled or 0)


async def wait_stored(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession], count: int
) -> None:
    async def stored() -> int:
        return (await inbox_counts(sessions))[0]

    async with asyncio.timeout(30):
        while True:
            if await stored() >= count and api.held_calls("sendMessage") >= 1:
                return
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_updates_stored_before_a_sigkill_are_handled_once_after_restart(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with FakeBotAPI() as api:
        key = Settings(_env_file=None, bot_token=api.token).signing_key()
        for reader in READERS:
            api.push_message(reader, reader, "/start")
        charge = "stxChargeBeforeTheCrash"
        api.push_successful_payment(
            PAYER, 250, make_payload(key, 250, PAYER), telegram_payment_charge_id=charge
        )
        api.hold("sendMessage")  # every answer waits: updates are received, not handled
        env = bot_environment(api, database_url, 30.0)
        env["NEWSBOT_ADMIN_IDS"] = str(OPERATOR)

        first = await start_bot(tmp_path, env, "bot-0.log")
        try:
            await wait_stored(api, sessions, len(READERS) + 1)
            # Telegram was told: the next getUpdates asks past the last stored update.
            await api.wait_for(lambda: api.pending_updates == 0, within=40)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        stored, handled = await inbox_counts(sessions)
        assert stored == len(READERS) + 1 and handled < stored
        assert api.sent == []  # nothing was answered before the kill
        api.release("sendMessage")  # the dead process's held answer is dropped undone

        second = await start_bot(tmp_path, env, "bot-1.log")
        try:
            await api.wait_for(lambda: all(api.messages_to(r) for r in READERS), within=40)
            await api.wait_for(lambda: bool(api.messages_to(PAYER)), within=10)  # thanked
            api.push_message(OPERATOR, OPERATOR, f"/refund {charge}")
            await api.wait_for(lambda: bool(api.messages_to(OPERATOR)), within=10)
            await asyncio.sleep(1.0)  # anything handled twice would answer by now
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)

    for reader in READERS:
        assert len(api.messages_to(reader)) == 1, api.messages_to(reader)
    thanks = [m for m in api.messages_to(PAYER) if "Thank you" in m.plain_text]
    assert len(thanks) == 1  # thanked once (the refund is announced apart)
    assert api.refunds == [(PAYER, charge)]
    assert "refunded" in api.messages_to(OPERATOR)[0].plain_text.lower()
    async with sessions() as session:
        donations = list(await session.scalars(select(DonationRow)))
    assert [d.charge_id for d in donations] == [charge]
    stored, handled = await inbox_counts(sessions)
    assert stored == handled == len(READERS) + 2
