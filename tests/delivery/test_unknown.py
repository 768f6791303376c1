"""Unknown deliveries: seen per article by operators, resent to channels only on purpose."""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import prepare_database, run
from bot.clock import SystemClock
from bot.i18n import Translator
from bot.storage.delivery_claims import claim_due, mark_inflight
from bot.storage.models import AuditRow, ChatRow, OutboxRow
from bot.storage.unknown_deliveries import UnknownArticle, unknown_by_article, unknown_counts
from handlers.operator import format_unknown, resend_answer
from tests.crash.support import add_private_readers, now, publish, reader_ids, states
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.revenue.support import free_port

ADMIN, STRANGER = 9001, 9002
READERS = 3
TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


def test_unknown_lines_name_the_article_and_its_audiences() -> None:
    at = datetime(2026, 12, 2, 12, 0)
    lines = format_unknown(
        [UnknownArticle(12, "T" * 80, channels=1, groups=0, private=14, last_at=at)], TR, "en"
    )
    assert lines[0].startswith("Unknown deliveries by article")
    assert lines[1] == f"  #12 {'T' * 59}…: channels 1 · groups 0 · private 14"
    assert format_unknown([], TR, "en") == []
    answer = resend_answer(12, [], 3, TR, "en")
    assert answer.startswith("Article #12 has no unknown delivery to a channel.")
    assert "groups and private chats (3) stay" in answer
    assert resend_answer(12, ["@a", "@b"], 0, TR, "ru") == (
        "Статья #12 снова в очереди для каналов (2): @a, @b"
    )


async def test_a_row_dropped_while_reserved_is_not_marked_in_flight(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(4), "georgia")
    await publish(sessions, "drop-1")
    async with sessions.begin() as session:
        claimed = await claim_due(session, now(), 4)
    ids = [d.id for d in claimed]
    async with sessions.begin() as session:  # the first chat went away meanwhile
        await session.execute(
            update(OutboxRow).where(OutboxRow.id == ids[0]).values(state="dropped")
        )
    async with sessions.begin() as session:
        marked = await mark_inflight(session, ids, now())
    assert marked == set(ids[1:])
    assert await states(sessions) == {"dropped": 1, "inflight": 3}


async def test_operators_see_unknown_deliveries_and_resend_them_to_channels_only(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    catalog = make_catalog([])
    async with FakeBotAPI() as api:
        declare_channels(api)
        port = free_port()
        settings = make_settings(api, database_url, admin_ids=(ADMIN,), metrics_port=port)
        engine = await prepare_database(settings, catalog, SystemClock())
        await engine.dispose()
        async with sessions.begin() as session:
            await add_private_readers(session, reader_ids(READERS), "georgia")
        created, article_id = await publish(sessions, "lost-1")
        assert created == READERS + 1  # the Georgian channel and the readers
        async with sessions.begin() as session:  # the process died with all of them in flight
            await session.execute(update(OutboxRow).values(state="unknown"))
        async with sessions() as session:
            assert await unknown_counts(session) == {
                "channels": 1,
                "groups": 0,
                "private": READERS,
            }
            listed = await unknown_by_article(session)
        assert [(a.article_id, a.channels, a.private) for a in listed] == [(article_id, 1, READERS)]

        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, catalog, dry_run=False, stop=stop))
        try:
            await api.wait_for(lambda: bool(api.commands), within=10)
            api.push_message(STRANGER, STRANGER, f"/resend {article_id}")
            api.push_message(ADMIN, ADMIN, "/queue")
            await api.wait_for(lambda: len(api.messages_to(ADMIN)) == 1, within=10)
            async with aiohttp.ClientSession() as http:
                scraped = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
            api.push_message(ADMIN, ADMIN, f"/resend {article_id}")
            await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=10)
            await api.wait_for(lambda: len(api.messages_to(ADMIN)) == 2, within=10)
            api.push_message(ADMIN, ADMIN, f"/resend {article_id}")  # a second time: nothing
            await api.wait_for(lambda: len(api.messages_to(ADMIN)) == 3, within=10)
            await asyncio.sleep(1.5)  # the sender would have sent anything else by now
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)

    assert [m.text for m in api.messages_to(STRANGER)] == [
        "Sorry, this command is only for the outlet's operators."
    ]
    assert 'newsbot_outbox_unknown{audience="channels"} 1.0' in scraped
    assert f'newsbot_outbox_unknown{{audience="private"}} {READERS}.0' in scraped
    queue, resent, again = (m.text for m in api.messages_to(ADMIN))
    assert f"#{article_id} Tbilisi metro extends to the airport: channels 1" in queue
    assert f"private {READERS}" in queue
    assert resent.startswith(f"Article #{article_id} queued again for channels (1):")
    assert f"groups and private chats ({READERS}) stay" in resent
    assert again.startswith(f"Article #{article_id} has no unknown delivery to a channel.")
    assert len(api.messages_to(GEORGIA_CHANNEL)) == 1
    for reader in reader_ids(READERS):
        assert api.messages_to(reader) == []  # private chats are never resent
    assert await states(sessions) == {"sent": 1, "unknown": READERS}
    async with sessions() as session:
        audit = (await session.execute(select(AuditRow.action, AuditRow.user_id))).all()
        channel_kind = await session.scalar(
            select(ChatRow.kind)
            .join(OutboxRow, OutboxRow.chat_id == ChatRow.id)
            .where(OutboxRow.state == "sent")
        )
    assert audit == [("resend", ADMIN)]
    assert channel_kind == "channel"
