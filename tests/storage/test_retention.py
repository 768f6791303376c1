"""Retention: old settled deliveries go, old taps become daily counts, old article bodies
are dropped while their keys keep dedup working, and the database stops growing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.retention import Retention
from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.engine import create_engine, session_factory
from bot.storage.inbox import mark_handled, store_updates
from bot.storage.migrate import upgrade
from bot.storage.models import ArticleRow, ClickDayRow, ClickRow, InboxRow, OutboxRow
from tests.crash.support import add_private_readers, reader_ids
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import SITE, articles, catalog_for, outbox, rig

START = datetime(2026, 1, 5, 9, 0)
READERS = 200
BODY = "The council met on Monday in Tbilisi. " * 8  # a summary of about 300 characters


async def publish(session: AsyncSession, key: str, at: datetime) -> int:
    """An article enqueued to every Georgian reader at ``at``; returns its id."""
    article = NewArticle(
        key=key,
        url=f"{SITE}/{key}/",
        canonical_url=f"{SITE}/{key}/",
        title=f"Story {key}",
        summary=BODY,
        language="en",
        regions=("georgia",),
        feed_id=None,
        published_at=None,
        announced=True,
    )
    article_id = await insert_article(session, article, at)
    await enqueue_article(session, article_id, "en", ["georgia"], at)
    return article_id


async def settle(session: AsyncSession, article_id: int, state: str, at: datetime) -> None:
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.article_id == article_id)
        .values(state=state, updated_at=at, message_id=1)
    )


def taps(day: date, target: str, readers: int) -> list[ClickRow]:
    return [
        ClickRow(
            kind="article",
            target=target,
            url=f"{SITE}/{target}/",
            language="en",
            regions="georgia",
            reader=f"reader-{target}-{n}",
            day=day,
            created_at=datetime.combine(day, datetime.min.time()),
        )
        for n in range(readers)
    ]


async def count(sessions: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_settled_deliveries_older_than_the_setting_go_in_batches(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(START)
    old, recent = START - timedelta(days=31), START - timedelta(days=29)
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(7), "georgia")
        states = {"a-sent": ("sent", old), "a-dead": ("dead", old), "a-unknown": ("unknown", old)}
        states |= {"b-sent": ("sent", recent), "c-open": ("retry", old)}
        for key, (state, at) in states.items():
            await settle(session, await publish(session, key, at), state, at)
    retention = Retention(sessions, clock, keep_deliveries_days=30, keep_articles_days=365, batch=4)
    report = await retention.prune()
    assert report.deliveries == 3 * 7
    async with sessions() as session:
        left = await session.execute(
            select(ArticleRow.key, func.count())
            .join(OutboxRow, OutboxRow.article_id == ArticleRow.id)
            .group_by(ArticleRow.key)
        )
        assert dict(left.all()) == {"b-sent": 7, "c-open": 7}
    assert (await retention.prune()).deliveries == 0


async def test_taps_older_than_every_stats_window_become_daily_counts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(START)
    old, older, recent = (START.date() - timedelta(days=d) for d in (40, 60, 5))
    async with sessions.begin() as session:
        session.add_all(taps(old, "a", 3) + taps(old, "b", 1) + taps(older, "a", 2))
        session.add_all(taps(recent, "a", 4))
    retention = Retention(sessions, clock, keep_deliveries_days=30, keep_articles_days=365)
    assert (await retention.prune()).clicks == 6
    async with sessions() as session:
        days = await session.execute(select(ClickDayRow.day, ClickDayRow.target, ClickDayRow.taps))
        assert sorted(days.all()) == [(older, "a", 2), (old, "a", 3), (old, "b", 1)]
        kept = await session.scalars(select(ClickRow.day))
        assert set(kept) == {recent}
    # A late tap of a folded day adds to its count.
    async with sessions.begin() as session:
        session.add_all(taps(old, "a", 1)[:1])
        session.add(taps(old, "a", 5)[4])
    await retention.prune()
    async with sessions() as session:
        total = await session.scalar(
            select(ClickDayRow.taps).where(ClickDayRow.day == old, ClickDayRow.target == "a")
        )
    assert total == 5


async def test_a_pruned_article_is_not_posted_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = {"post_id": 1, "title": "Tbilisi one", "description": "<p>Tbilisi story.</p>"}
    second = {"post_id": 2, "title": "Tbilisi two", "description": "<p>Tbilisi news.</p>"}
    clock = FakeClock(START)
    async with FeedServer() as server:
        server.set_feed("/feed/", wordpress_feed([first], site=SITE))
        catalog = catalog_for([{"url": server.url("/feed/")}])
        async with rig(sessions, catalog, clock=clock) as r:
            await r.ingestor.poll_all()  # what is there is marked seen
            server.set_feed("/feed/", wordpress_feed([second, first], site=SITE))
            await r.ingestor.poll_all()
            assert len(await outbox(sessions)) == 1
            async with sessions.begin() as session:
                await session.execute(update(OutboxRow).values(state="sent", message_id=5))
            clock.advance(400 * 86400)
            retention = Retention(sessions, clock, keep_deliveries_days=30, keep_articles_days=365)
            report = await retention.prune()
            assert report.deliveries == 1 and report.bodies == 2
            assert all(a.summary == "" for a in await articles(sessions))
            server.set_feed("/feed/", wordpress_feed([second, first], site=SITE, title="Again"))
            reports = await r.ingestor.poll_all()
    assert sum(rep.new_articles for rep in reports) == 0
    assert await outbox(sessions) == []
    assert len(await articles(sessions)) == 2


async def used_pages(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(pages in the file, pages in use)."""
    async with sessions() as session:
        pages = int(await session.scalar(text("PRAGMA page_count")) or 0)
        free = int(await session.scalar(text("PRAGMA freelist_count")) or 0)
    return pages, pages - free


async def simulate_day(sessions: async_sessionmaker[AsyncSession], day: int, at: datetime) -> None:
    """A day of traffic: two articles to every reader, sent; taps; handled updates."""
    async with sessions.begin() as session:
        for n in range(2):
            article_id = await publish(session, f"d{day}-{n}", at)
            await settle(session, article_id, "sent", at)
        session.add_all(taps(at.date(), f"d{day}", 40))
        updates = [(day * 100 + n, '{"message": {"text": "/start"}}') for n in range(30)]
        await store_updates(session, updates, at)
        for update_id, _ in updates:
            await mark_handled(session, update_id, at)


async def test_the_database_stays_flat_over_90_days_of_traffic(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ninety.db'}")
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await add_private_readers(session, reader_ids(READERS), "georgia")
        clock = FakeClock(START)
        retention = Retention(sessions, clock, keep_deliveries_days=30, keep_articles_days=30)
        sizes: dict[int, tuple[int, int]] = {}
        for day in range(90):
            await simulate_day(sessions, day, clock.now())
            await retention.prune()
            sizes[day] = await used_pages(sessions)
            clock.advance(86400)
        assert await count(sessions, OutboxRow) == 31 * 2 * READERS
        assert await count(sessions, InboxRow) <= 2 * 30
        assert await count(sessions, ClickRow) <= 32 * 40
        assert await count(sessions, ArticleRow) == 180  # keys stay
        # Growth stops once the oldest rows start going (day 31): flat from there, but for
        # the articles' keys, which stay (about 1 KB a day here, 2 % of the file by day 89).
        pages_45, used_45 = sizes[45]
        pages_89, used_89 = sizes[89]
        assert pages_89 <= pages_45 * 1.05, sizes
        assert used_89 <= used_45 * 1.05, sizes
        assert sizes[30][0] > sizes[5][0] * 3  # without retention it would keep growing
    finally:
        await engine.dispose()
