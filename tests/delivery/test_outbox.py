"""Outbox semantics on real SQLite and PostgreSQL: enqueue, claim, outcomes, recovery."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.queue import ChatGone, Dead, Migrated, ResendAsPlainText, Retry, Sent, Unknown
from bot.storage.articles import NewArticle, insert_article
from bot.storage.chats import set_chat_regions
from bot.storage.deliveries import enqueue_article
from bot.storage.delivery_claims import claim_due, recover_after_crash
from bot.storage.delivery_outcomes import record_outcome
from bot.storage.models import ChatRow, OutboxRow

NOW = datetime(2026, 11, 20, 12, 0, 0)


async def add_chat(
    session: AsyncSession, address: str, kind: str, lang: str, regions: list[str], **extra: object
) -> int:
    row = ChatRow(
        address=address,
        thread_id=0,
        kind=kind,
        title=address,
        language=lang,
        origin="user",
        active=True,
        paused=False,
        mode="instant",
        priority={"channel": 0, "private": 2}.get(kind, 1),
        created_at=NOW,
        updated_at=NOW,
    )
    for key, value in extra.items():
        setattr(row, key, value)
    session.add(row)
    await session.flush()
    await set_chat_regions(session, row.id, regions)
    return row.id


def article(key: str, regions: tuple[str, ...], lang: str = "en") -> NewArticle:
    return NewArticle(
        key=key,
        url=f"https://o.example/{key}",
        canonical_url=f"https://o.example/{key}",
        title=f"Title {key}",
        summary="Summary.",
        language=lang,
        regions=regions,
        feed_id=None,
        published_at=None,
        announced=True,
    )


async def test_enqueue_matches_language_regions_and_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        geo = await add_chat(s, "@geo", "channel", "en", ["georgia"])
        await add_chat(s, "@arm", "channel", "en", ["armenia"])
        everything = await add_chat(s, "@all", "channel", "en", ["*"])
        await add_chat(s, "@ru_geo", "channel", "ru", ["georgia"])
        reader = await add_chat(s, "1001", "private", "en", ["georgia", "armenia"])
        await add_chat(s, "1002", "private", "en", ["georgia"], active=False)
        await add_chat(s, "@paused", "channel", "en", ["georgia"], paused=True)
        await add_chat(s, "1003", "private", "en", ["georgia"], mode="digest")
        aid = await insert_article(s, article("a1", ("georgia",)), NOW)
        created = await enqueue_article(s, aid, "en", ("georgia",), NOW)
    async with sessions() as s:
        chats = set(await s.scalars(select(OutboxRow.chat_id).where(OutboxRow.article_id == aid)))
    assert chats == {geo, everything, reader}
    assert created == 3


async def test_outlet_wide_article_reaches_every_edition_of_its_language(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        a = await add_chat(s, "@geo", "channel", "en", ["georgia"])
        b = await add_chat(s, "@arm", "channel", "en", ["armenia"])
        await add_chat(s, "@ru", "channel", "ru", ["armenia"])
        aid = await insert_article(s, article("a2", ()), NOW)
        await enqueue_article(s, aid, "en", (), NOW)
    async with sessions() as s:
        chats = set(await s.scalars(select(OutboxRow.chat_id)))
    assert chats == {a, b}


async def test_an_article_without_regions_reaches_only_chats_of_every_region_by_default(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        await add_chat(s, "@geo", "channel", "en", ["georgia"])
        await add_chat(s, "@arm", "private", "en", ["armenia"])
        everything = await add_chat(s, "@all", "channel", "en", ["*"])
        aid = await insert_article(s, article("a9", ()), NOW)
        created = await enqueue_article(s, aid, "en", (), NOW, unmatched_to_all=False)
    async with sessions() as s:
        chats = set(await s.scalars(select(OutboxRow.chat_id)))
    assert chats == {everything} and created == 1


async def test_enqueue_twice_creates_no_duplicates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        await add_chat(s, "@geo", "channel", "en", ["georgia"])
        aid = await insert_article(s, article("a3", ("georgia",)), NOW)
        await enqueue_article(s, aid, "en", ("georgia",), NOW)
        await enqueue_article(s, aid, "en", ("georgia",), NOW)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxRow)) == 1


async def test_claim_orders_channels_first_and_reserves(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        await add_chat(s, "2001", "private", "en", ["georgia"])
        await add_chat(s, "@geo", "channel", "en", ["georgia"])
        aid = await insert_article(s, article("a4", ("georgia",)), NOW)
        await enqueue_article(s, aid, "en", ("georgia",), NOW)
    async with sessions.begin() as s:
        batch = await claim_due(s, NOW, 10)
    assert [d.address for d in batch] == ["@geo", "2001"]
    async with sessions.begin() as s:
        assert await claim_due(s, NOW, 10) == []  # reserved rows are not claimed again


async def _one_delivery(sessions: async_sessionmaker[AsyncSession], kind: str = "private"):  # type: ignore[no-untyped-def]
    async with sessions.begin() as s:
        await add_chat(s, "3001" if kind == "private" else "-1003001", kind, "en", ["georgia"])
        aid = await insert_article(s, article("a5", ("georgia",)), NOW)
        await enqueue_article(s, aid, "en", ("georgia",), NOW)
    async with sessions.begin() as s:
        (delivery,) = await claim_due(s, NOW, 10, state="inflight")
    return delivery


async def state_of(sessions: async_sessionmaker[AsyncSession], row_id: int) -> OutboxRow:
    async with sessions() as s:
        row = await s.get(OutboxRow, row_id)
        assert row is not None
        return row


async def test_sent_keeps_message_id(sessions: async_sessionmaker[AsyncSession]) -> None:
    d = await _one_delivery(sessions)
    async with sessions.begin() as s:
        await record_outcome(s, d, Sent(message_id=77), NOW)
    row = await state_of(sessions, d.id)
    assert (row.state, row.message_id, row.attempts) == ("sent", 77, 1)


async def test_retry_backs_off_then_dies(sessions: async_sessionmaker[AsyncSession]) -> None:
    d = await _one_delivery(sessions)
    async with sessions.begin() as s:
        await record_outcome(s, d, Retry("not sent", after=30), NOW)
    row = await state_of(sessions, d.id)
    assert row.state == "retry" and row.next_attempt_at == NOW + timedelta(seconds=30)
    exhausted = type(d)(**{**{f: getattr(d, f) for f in d.__slots__}, "attempts": 99})  # type: ignore[attr-defined]
    async with sessions.begin() as s:
        await record_outcome(s, exhausted, Retry("still not sent"), NOW)
    assert (await state_of(sessions, d.id)).state == "dead"


async def test_unknown_and_dead_are_final(sessions: async_sessionmaker[AsyncSession]) -> None:
    d = await _one_delivery(sessions)
    async with sessions.begin() as s:
        await record_outcome(s, d, Unknown("read timeout"), NOW)
    assert (await state_of(sessions, d.id)).state == "unknown"
    async with sessions.begin() as s:
        assert await claim_due(s, NOW + timedelta(days=1), 10) == []
        await record_outcome(s, d, Dead("Bad Request: message is too long"), NOW)
    assert (await state_of(sessions, d.id)).state == "dead"


async def test_chat_gone_deactivates_private_chat_and_drops_its_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    d = await _one_delivery(sessions)
    async with sessions.begin() as s:
        other = await insert_article(s, article("a6", ("georgia",)), NOW)
        await enqueue_article(s, other, "en", ("georgia",), NOW)
        applied = await record_outcome(
            s, d, ChatGone("Forbidden: bot was blocked by the user"), NOW
        )
    assert applied.chat_deactivated and applied.dropped == 1
    async with sessions() as s:
        chat = await s.get(ChatRow, d.chat_pk)
        assert chat is not None and not chat.active
        states = set(await s.scalars(select(OutboxRow.state)))
    assert states == {"dropped"}


async def test_channel_that_removed_the_bot_is_paused_not_deleted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    d = await _one_delivery(sessions, kind="channel")
    async with sessions.begin() as s:
        await record_outcome(
            s, d, ChatGone("Forbidden: bot is not a member of the channel chat"), NOW
        )
    async with sessions() as s:
        chat = await s.get(ChatRow, d.chat_pk)
        assert chat is not None and chat.active and chat.paused


async def test_migration_moves_chat_and_resends(sessions: async_sessionmaker[AsyncSession]) -> None:
    d = await _one_delivery(sessions, kind="group")
    async with sessions.begin() as s:
        await record_outcome(s, d, Migrated("-100999"), NOW)
    async with sessions.begin() as s:
        (again,) = await claim_due(s, NOW, 10)
    assert again.address == "-100999" and again.id == d.id


async def test_parse_error_resends_once_as_plain_text(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    d = await _one_delivery(sessions)
    async with sessions.begin() as s:
        await record_outcome(s, d, ResendAsPlainText("can't parse entities"), NOW)
    async with sessions.begin() as s:
        (again,) = await claim_due(s, NOW, 10)
        assert again.plain_text
        await record_outcome(s, again, ResendAsPlainText("can't parse entities"), NOW)
    assert (await state_of(sessions, d.id)).state == "dead"


async def test_recovery_requeues_reserved_and_marks_inflight_unknown(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        for n in range(4):
            await add_chat(s, str(4000 + n), "private", "en", ["georgia"])
        aid = await insert_article(s, article("a7", ("georgia",)), NOW)
        await enqueue_article(s, aid, "en", ("georgia",), NOW)
    async with sessions.begin() as s:
        await claim_due(s, NOW, 3)  # reserved only
        await claim_due(s, NOW, 1, state="inflight")  # reserved and handed to the Bot API
    async with sessions.begin() as s:
        back, lost = await recover_after_crash(s, NOW)
    assert (back, lost) == (3, 1)
    async with sessions() as s:
        states = sorted(await s.scalars(select(OutboxRow.state)))
    assert states == ["pending", "pending", "pending", "unknown"]
