"""Every message leaves through the outbox: a digest, a weekly list, a correction and a
deletion meet a long 429, a 403 and a migrated group exactly as a post does.

Each case queues its message the way production does (the digest and weekly jobs, the
corrections' ``queue_action``, ``enqueue_article`` for the post), breaks Telegram at the
HTTP boundary (the fake Bot API) and runs the production sender. The outcome must be the
post's: retried once the wait is over, the chat paused or deactivated, the migration
followed; never lost, never sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import BatchedAlerts, notice
from bot.app import assemble
from bot.i18n import Translator
from bot.mostread import MostReadItem, MostReadStore
from bot.outbox.kinds import DIGEST
from bot.storage.articles import NewArticle, insert_article
from bot.storage.chats import set_chat_regions
from bot.storage.deliveries import enqueue_article
from bot.storage.delivery_kinds import enqueue_texts
from bot.storage.models import ArticleRow, ChatRow, OutboxRow
from scheduler.corrections import queue_action
from scheduler.digest import DigestJob
from scheduler.weekly import WeeklyMostRead
from tests.delivery.support import sender_for
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

MONDAY_NINE = datetime(2026, 11, 23, 9, 0)  # a Monday, after the 08:00 digest/weekly slot
GROUP, SUPERGROUP, READER = -555, -100555, 4242
LONG_WAIT = 300  # seconds, the 429's retry_after
CATALOG = make_catalog([])
TR = Translator.load(["en", "ru"], "en")
METHOD = {
    "post": "sendMessage",
    "digest": "sendMessage",
    "weekly": "sendMessage",
    "edit": "editMessageText",
    "delete": "deleteMessage",
}


@dataclass
class Case:
    api: FakeBotAPI
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    kind: str
    chat_id: int
    message_id: int | None = None  # edit, delete: the post's message

    async def drain(self) -> None:
        async with sender_for(self.api, self.sessions, self.clock, CATALOG) as sender:
            await sender.drain(within=30)

    def succeeded(self, chat_id: int | None = None) -> list[object]:
        """Requests of this kind Telegram carried out in ``chat_id``."""
        wanted = str(chat_id or self.chat_id)
        return [
            r
            for r in self.api.calls(METHOD[self.kind])
            if r.status == 200 and str(r.params.get("chat_id")) == wanted
        ]

    async def rows(self) -> list[OutboxRow]:
        async with self.sessions() as session:
            query = select(OutboxRow).where(OutboxRow.kind == self.kind).order_by(OutboxRow.id)
            return list(await session.scalars(query))

    async def chat(self) -> ChatRow:
        async with self.sessions() as session:
            row = await session.scalar(select(ChatRow))
            assert row is not None
            return row


async def _chat(sessions: async_sessionmaker[AsyncSession], kind: str, address: int) -> int:
    private = kind == "private"
    async with sessions.begin() as session:
        row = ChatRow(
            address=str(address),
            thread_id=0,
            kind=kind,
            title="chat",
            language="en",
            origin="user",
            active=True,
            paused=False,
            mode="digest" if private else "instant",
            priority=2 if private else 1,
            created_at=MONDAY_NINE - timedelta(days=30),
            updated_at=MONDAY_NINE - timedelta(days=30),
            timezone="UTC",
            digest_minute=8 * 60,
            last_digest_at=MONDAY_NINE - timedelta(days=1),
            weekly_mostread=True,
        )
        session.add(row)
        await session.flush()
        await set_chat_regions(session, row.id, ["*"] if not private else ["georgia"])
        return row.id


async def _article(sessions: async_sessionmaker[AsyncSession], at: datetime) -> int:
    async with sessions.begin() as session:
        url = "https://caucasus-wire.example/1/"
        article = NewArticle(
            "k1", url, url, "Tbilisi metro", "", "en", ("georgia",), None, at, True
        )
        return await insert_article(session, article, at)


async def _queue(case: Case) -> None:
    """Queue the case's message as production does (for edits and deletions, after the
    post they act on was sent)."""
    sessions, now = case.sessions, case.clock.now()
    if case.kind == "digest" and case.chat_id == READER:
        await _article(sessions, now - timedelta(hours=2))
        assert await DigestJob(CATALOG, TR, sessions, case.clock).run() == 1
    elif case.kind == "digest":  # digests go to private chats; a group's row is the same
        async with sessions.begin() as session:
            chat = await session.scalar(select(ChatRow.id))
            assert chat is not None
            await enqueue_texts(session, chat, DIGEST, ["<b>Your daily digest</b>"], now)
    elif case.kind == "weekly":
        store = MostReadStore(sessions, "html", 6)
        async with sessions.begin() as session:
            await store.save(
                session, "en", [MostReadItem("Tbilisi metro", "https://x.example/1")], now
            )
        assert await WeeklyMostRead(CATALOG, TR, sessions, store, case.clock).run() == 1
    else:
        article = await _article(sessions, now)
        async with sessions.begin() as session:
            assert await enqueue_article(session, article, "en", ["georgia"], now) == 1
        if case.kind in ("edit", "delete"):
            await case.drain()
            [post] = case.api.messages_to(case.chat_id)
            case.message_id = post.message_id
            async with sessions.begin() as session:
                await session.execute(update(ArticleRow).values(title="Tbilisi metro reopens"))
                assert await queue_action(session, article, case.kind, case.clock.now()) == 1


KINDS = ["post", "digest", "weekly", "edit", "delete"]


async def _case(
    api: FakeBotAPI, sessions: async_sessionmaker[AsyncSession], kind: str, chat_kind: str
) -> Case:
    chat_id = READER if chat_kind == "private" else GROUP
    api.set_chat(chat_id, chat_kind, title="chat")
    await _chat(sessions, chat_kind, chat_id)
    case = Case(api, sessions, FakeClock(MONDAY_NINE, runs=True), kind, chat_id)
    await _queue(case)
    return case


@pytest.mark.parametrize("kind", KINDS)
async def test_a_long_429_waits_then_sends_once(
    sessions: async_sessionmaker[AsyncSession], kind: str
) -> None:
    async with FakeBotAPI(enforce_limits=False) as api:
        case = await _case(api, sessions, kind, "private" if kind == "digest" else "group")
        api.fail_next(METHOD[kind], 429, f"Too Many Requests: retry after {LONG_WAIT}", LONG_WAIT)
        await case.drain()
        [row] = await case.rows()
        assert row.state == "retry" and case.succeeded() == []
        assert row.next_attempt_at >= MONDAY_NINE + timedelta(seconds=LONG_WAIT)
        await case.drain()  # not before the wait is over
        assert len(case.api.calls(METHOD[kind])) == 1
        case.clock.jump(LONG_WAIT + 1)
        await case.drain()
        [row] = await case.rows()
        assert row.state == "sent" and len(case.succeeded()) == 1
        await case.drain()  # and never again
        assert len(case.succeeded()) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_403_closes_the_chat_like_a_post(
    sessions: async_sessionmaker[AsyncSession], kind: str
) -> None:
    chat_kind = "private" if kind == "digest" else "group"
    async with FakeBotAPI(enforce_limits=False) as api:
        case = await _case(api, sessions, kind, chat_kind)
        api.block_chat(case.chat_id, "Forbidden: bot was kicked from the group chat")
        # A second message waits for the same chat: it is dropped with the first.
        async with sessions.begin() as session:
            chat = await session.scalar(select(ChatRow.id))
            assert chat is not None
            await enqueue_texts(
                session,
                chat,
                "weekly" if kind != "weekly" else DIGEST,
                ["x"],
                case.clock.now() + timedelta(hours=1),
            )
        await case.drain()
        [row] = await case.rows()
        assert row.state == "dropped" and case.succeeded() == []
        chat_row = await case.chat()
        if chat_kind == "private":
            assert not chat_row.active  # a reader who blocked the bot
        else:
            assert chat_row.paused and chat_row.active  # a group: paused, settings kept
        async with sessions() as session:
            states = set(
                await session.scalars(select(OutboxRow.state).where(OutboxRow.kind != "post"))
            )
        assert "pending" not in states
        calls = len(api.calls(METHOD[kind]))
        case.clock.jump(3600)
        await case.drain()
        assert len(api.calls(METHOD[kind])) == calls  # nothing more tried there


@pytest.mark.parametrize("kind", KINDS)
async def test_a_migrated_group_is_followed(
    sessions: async_sessionmaker[AsyncSession], kind: str
) -> None:
    async with FakeBotAPI(enforce_limits=False) as api:
        case = await _case(api, sessions, kind, "group")
        api.migrate_chat(GROUP, SUPERGROUP)
        await case.drain()
        chat_row = await case.chat()
        assert chat_row.address == str(SUPERGROUP) and chat_row.kind == "supergroup"
        [row] = await case.rows()
        moved = [
            r for r in api.calls(METHOD[kind]) if str(r.params.get("chat_id")) == str(SUPERGROUP)
        ]
        assert len(moved) == 1  # resent to the supergroup, once
        if kind in ("edit", "delete"):
            # The old group's messages stay behind in it: nothing to change in the new one.
            assert row.state == "dropped" and "not found" in (row.last_error or "")
        else:
            assert row.state == "sent" and len(case.succeeded(SUPERGROUP)) == 1
        case.clock.jump(3600)
        await case.drain()
        assert len(api.calls(METHOD[kind])) == 2  # the refused one, and the one resent


async def test_editors_alerts_are_queued_and_follow_a_migrated_group(database_url: str) -> None:
    """Alerts leave through the outbox too; the editors' group migrates once, and the
    next alert goes straight to the supergroup (no loop back to the old id)."""
    editors, moved = -777, -100777
    async with FakeBotAPI(enforce_limits=False) as api:
        api.set_chat(editors, "group", title="Editors")
        api.migrate_chat(editors, moved)
        settings = make_settings(api, database_url, editors_chat_id=editors)
        async with assemble(settings, CATALOG, dry_run=False) as parts:
            assert parts.application is not None and isinstance(parts.alerts, BatchedAlerts)
            await parts.application.initialize()
            try:
                for text in ("Feed is back: <x>", "Feed is back: <y>"):
                    await parts.alerts.alert(notice("feed_back", url=text[-3:]))
                    await parts.alerts.flush()
                    assert not any(text in m.plain_text for m in api.messages_to(moved))
                    await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()
    texts = [m.plain_text for m in api.messages_to(moved)]
    assert texts == ["• Feed is back: <x>", "• Feed is back: <y>"]
    to_old = [r for r in api.calls("sendMessage") if str(r.params.get("chat_id")) == str(editors)]
    assert len(to_old) == 1  # refused once (migrated), never again
