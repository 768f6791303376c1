"""/stats: the queries on SQLite and PostgreSQL, the text, the chart, and the command."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Translator
from bot.stats import Stats, Window, collect
from bot.stats_chart import chart_figure, render_chart, render_trend, trend_figure
from bot.stats_text import format_stats
from bot.stats_trend import Trend, collect_trend, trend_days
from bot.storage.models import (
    ArticleRow,
    ChatLanguageRow,
    ChatRegionRow,
    ChatRow,
    ClickRow,
    DonationRow,
    OutboxRow,
)
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.revenue.support import running, settings_for

NOW = datetime(2026, 11, 20, 12, 0)
DAY = timedelta(days=1)
NAMES = {"georgia": "Georgia", "armenia": "Armenia"}
TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        chats = [
            ("1", "private", "en", True, ["georgia"]),
            ("2", "private", "ru", True, ["georgia", "armenia"]),
            ("3", "private", "en", True, ["*"]),
            ("4", "private", "en", False, ["georgia"]),  # stopped: not counted
            ("@cw", "channel", "en", True, ["georgia"]),
            ("@old", "channel", "en", False, ["armenia"]),
        ]
        for address, kind, lang, active, regions in chats:
            chat = ChatRow(
                address=address,
                thread_id=0,
                kind=kind,
                title=address,
                language=lang,
                origin="user",
                active=active,
                paused=False,
                mode="instant",
                priority=2,
                created_at=NOW - 50 * DAY,
                updated_at=NOW - 50 * DAY,
            )
            session.add(chat)
            await session.flush()
            session.add_all(ChatRegionRow(chat_id=chat.id, region=r) for r in regions)
        articles = []
        for n, (age, announced) in enumerate([(2, True), (10, True), (40, True), (1, False)]):
            article = ArticleRow(
                key=f"k{n}",
                url=f"https://x.example/{n}/",
                canonical_url=f"https://x.example/{n}/",
                title=f"A{n}",
                summary="",
                language="en",
                regions="georgia",
                created_at=NOW - age * DAY,
                updated_at=NOW - age * DAY,
                announced=announced,
            )
            session.add(article)
            articles.append(article)
        await session.flush()
        chat_ids = [c.id for c in (await session.run_sync(lambda s: s.query(ChatRow).all()))]
        for n, (state, age) in enumerate([("sent", 1), ("sent", 1), ("sent", 20), ("pending", 1)]):
            session.add(
                OutboxRow(
                    article_id=articles[0].id if n < 2 else articles[1].id,
                    chat_id=chat_ids[n],
                    state=state,
                    priority=2,
                    attempts=1,
                    next_attempt_at=NOW - age * DAY,
                    created_at=NOW - age * DAY,
                    updated_at=NOW - age * DAY,
                    plain_text=False,
                )
            )
        clicks = [
            ("article", "georgia", "r1", 1),
            ("article", "georgia", "r2", 1),
            ("article", "georgia armenia", "r1", 3),
            ("article", "armenia", "r3", 15),
            ("donate", "", "r1", 1),
            ("article", "georgia", "r9", 40),
        ]
        for n, (kind, regions, reader, age) in enumerate(clicks):
            at = NOW - age * DAY
            session.add(
                ClickRow(
                    kind=kind,
                    target=f"t{n}",
                    url=f"https://x.example/{n}/",
                    language="en",
                    regions=regions,
                    reader=reader,
                    day=at.date(),
                    created_at=at,
                )
            )
        donations = [(250, 1, None), (50, 10, None), (1000, 2, NOW - DAY), (100, 40, None)]
        for n, (amount, age, refunded) in enumerate(donations):
            session.add(
                DonationRow(
                    charge_id=f"c{n}",
                    user_id=1,
                    amount=amount,
                    currency="XTR",
                    payload="p",
                    language="en",
                    created_at=NOW - age * DAY,
                    refunded_at=refunded,
                )
            )


async def test_stats_queries(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    async with sessions() as session:
        stats = await collect(session, NOW)
    assert stats.subscribers == Counter(
        {("georgia", "en"): 1, ("georgia", "ru"): 1, ("armenia", "ru"): 1, ("*", "en"): 1}
    )
    assert stats.channels == 1
    assert stats.people == 3  # three readers, four subscriptions
    week, month = stats.window(7), stats.window(30)
    assert (week.posts, week.deliveries) == (1, 2)
    assert (month.posts, month.deliveries) == (2, 3)
    assert week.read_more == Counter({"georgia": 3, "armenia": 1})
    assert month.read_more == Counter({"georgia": 3, "armenia": 2})
    assert week.donate == month.donate == Counter({"all": 1})
    assert (week.stars, week.donations) == (250, 1)
    assert (month.stars, month.donations) == (300, 2)


async def test_stats_on_an_empty_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        stats = await collect(session, NOW)
    assert stats.subscribers == Counter() and stats.channels == 0
    assert all(w.posts == w.stars == 0 and not w.read_more for w in stats.windows)
    assert "Stars received: 0 · donations: 0" in format_stats(stats, NAMES, TR, "en")
    assert render_chart(stats, NAMES).startswith(b"\x89PNG")


def sample() -> Stats:
    return Stats(
        NOW,
        Counter({("georgia", "en"): 120, ("armenia", "ru"): 40, ("*", "en"): 7}),
        3,
        (
            Window(7, 12, 900, Counter({"georgia": 30, "armenia": 4}), Counter({"all": 2}), 250, 1),
            Window(30, 50, 4000, Counter({"georgia": 90, "armenia": 20}), Counter(), 1300, 3),
        ),
        people=150,
    )


def test_text_is_short_and_names_regions() -> None:
    text = format_stats(sample(), NAMES, TR, "en")
    assert len(text.splitlines()) <= 18 and len(text) < 1200
    assert "Readers: 150 · subscriptions (region × language): 167" in text
    assert "Channels and groups: 3" in text
    assert "by region: Georgia 120, Armenia 40, all regions 7" in text
    assert "by language: en 127, ru 40" in text
    assert "Last 7 days" in text and "Posts: 12 · messages delivered: 900" in text
    assert "Read more taps: 34 (Georgia 30, Armenia 4)" in text
    assert "Donate taps: 2 (all regions 2)" in text
    assert "Stars received: 1,300 · donations: 3" in text


def test_text_in_the_operators_language() -> None:
    names = {"georgia": "Грузия", "armenia": "Армения"}
    text = format_stats(sample(), names, TR, "ru").replace("\xa0", " ").replace("\u202f", " ")
    assert text.startswith("Статистика редакции, 20 нояб. 2026 г. 12:00 UTC")
    assert "Читатели: 150 · подписки (регион × язык): 167" in text
    assert "по регионам: Грузия 120, Армения 40, все регионы 7" in text
    assert "Получено звёзд: 1 300 · пожертвования: 3" in text
    for lang in ("ka", "hy", "az"):
        other = format_stats(sample(), NAMES, TR, lang)
        assert "Newsroom" not in other and "167" in other


def test_chart_is_a_phone_sized_png() -> None:
    import struct

    png = render_chart(sample(), NAMES)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 1280 and height > width  # portrait, as phones show it


async def test_stats_command_for_operators_only(database_url: str) -> None:
    operator, reader = 4242, 5550001
    async with FakeBotAPI() as api:
        settings = settings_for(api, database_url, admin_ids=f"{operator}")
        async with running(settings, make_catalog([])):
            api.push_message(reader, reader, "/stats")
            api.push_message(operator, operator, "/stats")
            await api.wait_for(lambda: len(api.messages_to(operator, "sendPhoto")) == 2, within=20)
            await api.wait_for(lambda: bool(api.messages_to(reader)), within=5)
        text = api.messages_to(operator)[-1].plain_text
        assert "Newsroom stats" in text and "Last 30 days" in text
        photos = api.calls("sendPhoto")
        assert [p.files["photo"].filename for p in photos] == ["stats.png", "trend.png"]
        assert all(p.files["photo"].data.startswith(b"\x89PNG") for p in photos)
        assert "only for the outlet's operators" in api.messages_to(reader)[-1].plain_text
        assert api.messages_to(reader, "sendPhoto") == []


async def test_trend_counts_each_day(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(sessions)
    async with sessions.begin() as session:
        for address, age, active in [("n1", 0, True), ("n2", 0, True), ("n3", 3, False)]:
            at = NOW - age * DAY
            session.add(
                ChatRow(
                    address=address,
                    thread_id=0,
                    kind="private",
                    title=address,
                    language="en",
                    created_at=at,
                    updated_at=at,
                    active=active,
                )
            )
    async with sessions() as session:
        trend = await collect_trend(session, NOW)
    assert len(trend.days) == 30 and trend.days[-1] == NOW.date()
    today, three_days_ago = -1, -4
    assert trend.series["new"][today] == 2 and trend.series["new"][three_days_ago] == 1
    assert trend.series["lost"][three_days_ago] == 1 and trend.total("lost") == 1
    assert trend.series["deliveries"][-2] == 2 and trend.total("deliveries") == 3
    assert trend.total("read_more") == 4  # a tap counts once; the 40-day-old one is outside
    assert trend.total("donate") == 1
    assert trend.series["stars"][-2] == 250 and trend.total("stars") == 300  # refund left out
    assert not trend.empty


def empty_trend() -> Trend:
    days = trend_days(NOW)
    return Trend(
        days,
        {
            name: (0,) * len(days)
            for name in ("new", "lost", "deliveries", "read_more", "donate", "stars")
        },
    )


def test_charts_with_no_data_start_at_zero() -> None:
    """No −0.04..0.04 axis: empty counts read 0 to at least 1, in whole numbers."""
    empty = Stats(NOW, Counter(), 0, (Window(7), Window(30)))
    for figure, limits in (
        (chart_figure(empty, NAMES), "get_xlim"),
        (trend_figure(empty_trend()), "get_ylim"),
    ):
        for axes in figure.axes:
            low, high = getattr(axes, limits)()
            assert low == 0 and high >= 1, (axes.get_title(), low, high)
    assert render_trend(empty_trend()).startswith(b"\x89PNG")
    assert empty_trend().empty


async def test_metrics_carry_the_stats_figures(sessions: async_sessionmaker[AsyncSession]) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from bot.audience_metrics import AudienceMetrics

    await seed(sessions)
    async with sessions.begin() as session:  # one tap today, inside any 30-day window
        today = datetime.now(UTC).replace(tzinfo=None)
        session.add(
            ClickRow(
                kind="article",
                target="today",
                url="https://x.example/today/",
                language="en",
                regions="georgia",
                reader="r7",
                day=today.date(),
                created_at=today,
            )
        )
    registry = CollectorRegistry()
    metrics = AudienceMetrics(registry)
    await metrics.refresh(sessions)
    text = generate_latest(registry).decode()
    assert "newsbot_readers 3.0" in text
    assert 'newsbot_subscriptions{language="ru",region="georgia"} 1.0' in text
    assert 'newsbot_subscriptions{language="en",region="all"} 1.0' in text
    assert "newsbot_channels 1.0" in text
    async with sessions() as session:  # the same wall clock: the seed's days may be in it
        trend = await collect_trend(session, today)
    assert trend.total("read_more") >= 1
    assert f'newsbot_last_30_days{{figure="read_more_taps"}} {trend.total("read_more")}.0' in text
    assert f'newsbot_last_30_days{{figure="stars"}} {trend.total("stars")}.0' in text


async def test_a_reader_of_two_editions_is_one_person_with_more_subscriptions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)
    async with sessions.begin() as session:
        reader = await session.scalar(select(ChatRow.id).where(ChatRow.address == "1"))
        assert reader is not None
        session.add(ChatLanguageRow(chat_id=reader, language="ru", rank=1))
    async with sessions() as session:
        stats = await collect(session, NOW)
    assert stats.people == 3
    assert stats.subscribers[("georgia", "en")] == 1 and stats.subscribers[("georgia", "ru")] == 2
    assert sum(stats.subscribers.values()) == 5
