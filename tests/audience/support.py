"""The whole bot (handlers, storage, sender) running against the fake Bot API, for flows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Parts, assemble, receive_updates
from bot.catalog import Catalog
from bot.storage.articles import NewArticle, insert_article
from bot.storage.chats import set_chat_regions
from bot.storage.deliveries import enqueue_article
from bot.storage.models import ChatRegionRow, ChatRow, OutboxRow
from tests.crash.support import reader_row
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI, SentMessage
from tests.fakes.clock import FakeClock


async def add_private_reader(
    session: AsyncSession, address: str, regions: list[str], now: datetime, **columns: Any
) -> int:
    """A private subscriber (active, English, instant unless ``columns`` say otherwise)."""
    values = {**reader_row(address, now), **columns}
    row = ChatRow(**values)
    session.add(row)
    await session.flush()
    await set_chat_regions(session, row.id, regions)
    return row.id


# 10:00 UTC = 14:00 in Tbilisi and Yerevan: outside the default quiet hours.
NOON = datetime(2026, 3, 2, 10, 0)


@contextlib.asynccontextmanager
async def bot_running(
    api: FakeBotAPI,
    database_url: str,
    clock: FakeClock,
    catalog: Catalog | None = None,
    **settings: Any,
) -> AsyncIterator[Parts]:
    """assemble() plus long polling, like ``newsbot run`` without the scheduler."""
    catalog = catalog or make_catalog([])
    config = make_settings(api, database_url, **settings)
    async with assemble(config, catalog, dry_run=False, clock=clock) as parts:
        app = parts.application
        assert app is not None
        await app.initialize()
        await app.start()
        stop = asyncio.Event()
        receiving = asyncio.create_task(receive_updates(parts, config, stop))
        try:
            yield parts
        finally:
            stop.set()
            await asyncio.wait_for(receiving, 10)
            await app.stop()
            await app.shutdown()


def buttons(message: SentMessage | None) -> dict[str, str]:
    """Inline button label -> callback data (or url)."""
    assert message is not None and message.reply_markup is not None
    found = {}
    for row in message.reply_markup.get("inline_keyboard", []):
        for button in row:
            found[button["text"]] = button.get("callback_data") or button.get("url")
    return found


async def next_from_bot(api: FakeBotAPI, chat_id: int, method: str, count: int) -> None:
    """Wait until ``chat_id`` has seen ``count`` calls of ``method``."""

    def seen() -> bool:
        calls = [
            r
            for r in api.calls(method)
            if str(r.params.get("chat_id")) == str(chat_id) and r.status == 200
        ]
        return len(calls) >= count

    await api.wait_for(seen, within=10)


def latest(api: FakeBotAPI, chat_id: int) -> SentMessage | None:
    """The current state of the bot's latest message in a chat (after edits)."""
    mine = [m for m in api.sent if m.chat_id == chat_id]
    return api.message(chat_id, mine[-1].message_id) if mine else None


async def tap(api: FakeBotAPI, user_id: int, chat_id: int, label: str) -> str:
    """Tap the button labelled ``label`` under the bot's latest message; returns the query id."""
    message = latest(api, chat_id)
    data = buttons(message)[label]
    assert message is not None
    query = api.push_callback_query(user_id, data, chat_id=chat_id, message_id=message.message_id)
    query_id = str(query["callback_query"]["id"])
    await api.wait_for(lambda: query_id in api.callback_answers, within=10)
    return query_id


async def subscription(parts: Parts, chat_id: int) -> tuple[ChatRow | None, list[str]]:
    async with parts.sessions() as session:
        row = await session.scalar(select(ChatRow).where(ChatRow.address == str(chat_id)))
        regions = (
            list(
                await session.scalars(
                    select(ChatRegionRow.region).where(ChatRegionRow.chat_id == row.id)
                )
            )
            if row
            else []
        )
    return row, sorted(regions)


async def publish(
    parts: Parts, key: str, title: str, language: str, regions: tuple[str, ...], now: datetime
) -> int:
    """An article arrives as the Ingestor stores it: the article and its outbox rows."""
    async with parts.sessions.begin() as session:
        article = await insert_article(
            session,
            NewArticle(
                key=key,
                url=f"https://caucasus-wire.example/{key}/",
                canonical_url=f"https://caucasus-wire.example/{key}/",
                title=title,
                summary=f"{title}. More below.",
                language=language,
                regions=regions,
                feed_id=None,
                published_at=now,
                announced=True,
            ),
            now,
        )
        await enqueue_article(session, article, language, list(regions), now)
    return article


async def queued(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[tuple[str, str]]:
    """The (chat address, text) of every message of ``kind`` still waiting in the outbox,
    in sending order (digests and weekly lists are queued there, the sender sends them)."""
    async with sessions() as session:
        rows = await session.execute(
            select(ChatRow.address, OutboxRow.body)
            .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
            .where(OutboxRow.kind == kind, OutboxRow.state == "pending")
            .order_by(OutboxRow.priority, OutboxRow.next_attempt_at, OutboxRow.id)
        )
        return [(address, body or "") for address, body in rows]


async def run_and_send(parts: Parts, job: Callable[[], Awaitable[int]]) -> int:
    """Run a job that queues messages (a digest, a weekly list), then let the sender send
    what is due; returns what the job returned."""
    result = await job()
    await parts.sender.drain(within=30)
    return result
