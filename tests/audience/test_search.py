"""Share and search against the Bot API emulator, on SQLite and PostgreSQL: inline mode
(``@bot words``), picking a result, ``/search``, forged and empty queries, the budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from bot.app import Parts
from bot.links import verify
from bot.outbox.queue import Delivery
from bot.storage.articles import NewArticle, insert_article
from bot.storage.search import find_stories
from tests.audience.support import NOON, bot_running, next_from_bot
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.fakes.inline import InlineAnswer

PUBLIC = "https://news.example"
READER = 5100


async def story(
    parts: Parts,
    key: str,
    title: str,
    language: str = "en",
    *,
    summary: str = "",
    age: timedelta = timedelta(hours=1),
    image: str = "",
) -> int:
    now = parts.services.clock.now() - age
    async with parts.sessions.begin() as session:
        return await insert_article(
            session,
            NewArticle(
                key=key,
                url=f"https://caucasus-wire.example/{key}/",
                canonical_url=f"https://caucasus-wire.example/{key}/",
                title=title,
                summary=summary or f"{title}. More below.",
                language=language,
                regions=("georgia",),
                feed_id=None,
                published_at=now,
                announced=True,
                image_url=image,
            ),
            now,
        )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(inline=True) as fake:
        yield fake


@pytest.fixture
async def parts(api: FakeBotAPI, database_url: str) -> AsyncIterator[Parts]:
    async with bot_running(
        api, database_url, FakeClock(NOON, runs=True), public_url=PUBLIC
    ) as running:
        yield running


async def ask(api: FakeBotAPI, query: str, user: int = READER, lang: str = "en") -> InlineAnswer:
    query_id = api.push_inline_query(user, query, language_code=lang)
    await api.wait_for(lambda: query_id in api.inline_answers, within=10)
    return api.inline_answers[query_id]


def titles(answer: InlineAnswer) -> list[str]:
    return [r["title"] for r in answer.results]


async def test_inline_query_finds_matching_stories_in_the_readers_language(
    api: FakeBotAPI, parts: Parts
) -> None:
    await story(
        parts, "a", "Elections in Georgia: the count goes on", image="https://x.example/a.jpg"
    )
    await story(parts, "b", "Wine harvest ends early")
    await story(parts, "c", "Выборы в Грузии", "ru")
    answer = await ask(api, "ELECTION")
    assert titles(answer) == ["Elections in Georgia: the count goes on"]
    (result,) = answer.results
    assert result["thumbnail_url"] == "https://x.example/a.jpg"
    assert "count goes on" in result["description"]
    assert answer.is_personal
    assert await ask(api, "выборы", user=READER + 1, lang="ru") is not None
    assert titles(await ask(api, "ВЫБОРЫ", user=READER + 2, lang="ru")) == ["Выборы в Грузии"]


async def test_search_folds_case_and_marks_in_all_five_scripts(
    api: FakeBotAPI, parts: Parts
) -> None:
    await story(parts, "ru", "Всё о переговорах", "ru")
    await story(parts, "ka", "ᲗᲑᲘᲚᲘᲡᲘ ემზადება", "ka")  # Mtavruli capitals in a headline
    await story(parts, "hy", "ԵՐԵՎԱՆՈՒՄ բանակցություններ", "hy")
    await story(parts, "az", "BAKI sammitə hazırlaşır", "az")
    await story(parts, "en", "İSTANBUL talks resume")
    cases = [("все переговоры", "ru"), ("თბილისი", "ka"), ("երևան", "hy"), ("bakı", "az")]
    for n, (query, lang) in enumerate(cases):
        assert len((await ask(api, query, user=READER + n, lang=lang)).results) == 1, query
    assert len((await ask(api, "istanbul", user=READER + 9)).results) == 1


async def test_a_title_match_and_a_newer_story_rank_first(api: FakeBotAPI, parts: Parts) -> None:
    await story(parts, "summary", "Budget news", summary="Talks on the tariff went on.")
    await story(parts, "old", "Tariff talks stall", age=timedelta(days=10))
    await story(parts, "new", "Tariff talks resume", age=timedelta(hours=2))
    await story(parts, "ancient", "Tariff talks began", age=timedelta(days=45))  # outside
    answer = await ask(api, "tariff")
    assert titles(answer) == ["Tariff talks resume", "Tariff talks stall", "Budget news"]


async def test_choosing_a_result_sends_the_card_with_a_tracked_read_more(
    api: FakeBotAPI, parts: Parts
) -> None:
    article = await story(parts, "pick", "Border crossing reopens")
    answer = await ask(api, "border")
    card = api.choose_inline_result(answer.query_id, str(article), chat_id=-100777)
    assert "Border crossing reopens" in card.plain_text
    assert card.reply_markup is not None
    read_more = card.reply_markup["inline_keyboard"][0][0]
    assert read_more["text"] == "Read more"
    assert read_more["url"].startswith(f"{PUBLIC}/r/")
    token = urlsplit(read_more["url"]).path.removeprefix("/r/")
    target = verify(parts.services.settings.signing_key(), token)
    assert target is not None
    assert target.url == "https://caucasus-wire.example/pick/"
    assert target.kind == "article"


async def test_share_query_names_one_story_and_forged_ones_find_nothing(
    api: FakeBotAPI, parts: Parts
) -> None:
    article = await story(parts, "one", "Tunnel opens", "ru")  # any language by id
    await story(parts, "two", "Percent_of voters")
    assert [r["id"] for r in (await ask(api, f"#{article}")).results] == [str(article)]
    forged = ["#999999", "#99999999999999999999", "%", "_", "' OR 1=1 --", "x" * 1000]
    for n, query in enumerate(forged):
        assert (await ask(api, query, user=READER + n)).results == [], query


async def test_an_empty_query_lists_the_newest_stories(api: FakeBotAPI, parts: Parts) -> None:
    await story(parts, "older", "Older story", age=timedelta(hours=5))
    await story(parts, "newer", "Newer story", age=timedelta(hours=1))
    assert titles(await ask(api, "")) == ["Newer story", "Older story"]


async def test_inline_queries_are_limited_per_user(api: FakeBotAPI, parts: Parts) -> None:
    await story(parts, "flood", "Flood warning")
    asked = [api.push_inline_query(READER, "flood") for _ in range(30)]
    other = await ask(api, "flood", user=READER + 1)  # another user is served meanwhile
    assert len(other.results) == 1
    answered = [q for q in asked if q in api.inline_answers]
    assert 1 <= len(answered) <= 15


async def test_search_command_lists_tracked_links(api: FakeBotAPI, parts: Parts) -> None:
    await story(parts, "s1", "Parliament passes the budget")
    await story(parts, "s2", "Unrelated weather story")
    api.push_message(READER, READER, "/search parliament")
    await next_from_bot(api, READER, "sendMessage", 1)
    reply = api.messages_to(READER)[-1]
    assert "Parliament passes the budget" in reply.plain_text
    assert "weather" not in reply.plain_text
    link = next(e for e in reply.entities if e.url)
    assert link.url is not None and link.url.startswith(f"{PUBLIC}/r/")
    assert reply.reply_markup is not None
    share = reply.reply_markup["inline_keyboard"][0][0]
    assert share["switch_inline_query_chosen_chat"]["query"] == "parliament"


async def test_search_without_words_or_matches_explains(api: FakeBotAPI, parts: Parts) -> None:
    api.push_message(READER, READER, "/search")
    await next_from_bot(api, READER, "sendMessage", 1)
    usage = api.messages_to(READER)[-1].plain_text
    assert "/search" in usage and "@newsbot_test_bot" in usage
    api.push_message(READER, READER, "/search zzzqqq", language_code="ru")
    await next_from_bot(api, READER, "sendMessage", 2)
    assert "zzzqqq" in api.messages_to(READER)[-1].plain_text
    assert "не нашлось" in api.messages_to(READER)[-1].plain_text


async def test_search_uses_the_index_of_recent_stories(parts: Parts) -> None:
    """Bounded by the (language, created_at) index, not a scan of every article."""
    if parts.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan is deterministic on a small table")
    seen: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        seen.append((sql, params))

    async with parts.sessions() as session:
        connection = await session.connection()
        sync = connection.sync_connection
        assert sync is not None
        event.listen(sync, "before_cursor_execute", capture)
        await find_stories(session, "en", ["x"], parts.services.clock.now())
        event.remove(sync, "before_cursor_execute", capture)
        sql, params = seen[0]
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        details = " ".join(str(row) for row in plan)
    assert "ix_articles_language_created" in details


async def test_share_buttons_need_inline_mode_at_telegram(database_url: str) -> None:
    """Without inline mode Telegram refuses switch-inline buttons: the bot adds none."""
    async with (
        FakeBotAPI() as plain,
        bot_running(plain, database_url, FakeClock(NOON, runs=True)) as running,
    ):
        await story(running, "found", "Found without inline mode")
        plain.push_message(READER, READER, "/search found")
        await next_from_bot(plain, READER, "sendMessage", 1)
        reply = plain.messages_to(READER)[-1]
        assert "Found without inline mode" in reply.plain_text
        assert reply.reply_markup is None
        assert not running.services.posts.shares(private_delivery())
    async with (
        FakeBotAPI(inline=True) as api,
        bot_running(api, database_url, FakeClock(NOON, runs=True)) as on,
    ):
        assert on.services.posts.shares(private_delivery())
        assert not on.services.posts.shares(private_delivery(kind="channel"))


def private_delivery(kind: str = "private") -> Delivery:
    return Delivery(
        id=1,
        attempts=0,
        plain_text=False,
        chat_pk=1,
        address="5",
        thread_id=0,
        chat_kind=kind,
        chat_language="en",
        article_id=42,
        title="T",
        url="https://caucasus-wire.example/t/",
        summary="S",
        regions=("georgia",),
    )
