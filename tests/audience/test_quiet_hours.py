"""Quiet hours and digest times in the reader's time zone; held deliveries in the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.localtime import in_quiet_hours, last_digest_time, quiet_until, zone
from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.models import OutboxRow
from tests.audience.support import add_private_reader


def test_quiet_hours_span_midnight() -> None:
    assert in_quiet_hours(23 * 60, 23 * 60, 8 * 60)
    assert in_quiet_hours(3 * 60, 23 * 60, 8 * 60)
    assert not in_quiet_hours(8 * 60, 23 * 60, 8 * 60)
    assert not in_quiet_hours(12 * 60, 23 * 60, 8 * 60)
    assert in_quiet_hours(13 * 60, 12 * 60, 14 * 60)
    assert not in_quiet_hours(5, 60, 60)  # equal ends: never quiet


def test_quiet_until_converts_local_end_to_utc() -> None:
    # 20:30 UTC is 00:30 in Tbilisi (UTC+4): quiet until 08:00 local = 04:00 UTC next day.
    now = datetime(2026, 3, 1, 20, 30)
    assert quiet_until(now, "Asia/Tbilisi", 23 * 60, 8 * 60) == datetime(2026, 3, 2, 4, 0)
    # 18:30 UTC is 22:30 local: not quiet yet.
    assert quiet_until(datetime(2026, 3, 1, 18, 30), "Asia/Tbilisi", 23 * 60, 8 * 60) is None
    # 01:00 UTC is 05:00 local: quiet until 04:00 UTC the same day.
    assert quiet_until(datetime(2026, 3, 2, 1, 0), "Asia/Tbilisi", 23 * 60, 8 * 60) == datetime(
        2026, 3, 2, 4, 0
    )
    assert quiet_until(now, "Asia/Tbilisi", None, None) is None


def test_digest_time_and_unknown_zones() -> None:
    now = datetime(2026, 3, 2, 5, 0)  # 09:00 in Tbilisi
    assert last_digest_time(now, "Asia/Tbilisi", 8 * 60) == datetime(2026, 3, 2, 4, 0)
    assert last_digest_time(now, "Asia/Tbilisi", 10 * 60) == datetime(2026, 3, 1, 6, 0)
    assert str(zone("Not/AZone")) == "UTC"


async def _reader(
    session: AsyncSession, address: str, quiet: tuple[int, int] | None, now: datetime
) -> int:
    return await add_private_reader(
        session,
        address,
        ["georgia"],
        now,
        timezone="Asia/Tbilisi",
        quiet_start=quiet[0] if quiet else None,
        quiet_end=quiet[1] if quiet else None,
    )


async def test_enqueue_holds_rows_of_readers_in_quiet_hours(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    night = datetime(2026, 3, 1, 20, 30)  # 00:30 in Tbilisi
    async with sessions.begin() as session:
        sleeper = await _reader(session, "1001", (23 * 60, 8 * 60), night)
        owl = await _reader(session, "1002", None, night)
        late = await _reader(session, "1003", (2 * 60, 6 * 60), night)  # not yet quiet
        article = await insert_article(
            session,
            NewArticle(
                "k1",
                "https://x.example/1",
                "https://x.example/1",
                "T",
                "",
                "en",
                ("georgia",),
                None,
                None,
                True,
            ),
            night,
        )
        assert await enqueue_article(session, article, "en", ["georgia"], night) == 3
    async with sessions() as session:
        due = dict(
            (await session.execute(select(OutboxRow.chat_id, OutboxRow.next_attempt_at))).all()
        )
    assert due[sleeper] == datetime(2026, 3, 2, 4, 0)
    assert due[owl] == night
    assert due[late] == night
