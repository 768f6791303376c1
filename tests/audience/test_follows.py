"""Readers and channel admins follow topics and keywords; only matching stories arrive."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update

from bot.app import Parts
from bot.catalog import Catalog
from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.editions import chat_languages
from bot.storage.follows import MAX_KEYWORDS, chat_follows
from bot.storage.models import ArticleRow, ChatRow
from scheduler.digest import DigestJob
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    run_and_send,
    subscription,
    tap,
)
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI, SentMessage
from tests.fakes.clock import FakeClock

READER = 7101
ADMIN = 9101
CHANNEL = -1002000000101
TOPICS = [
    {"code": "economy", "name": {"en": "Economy", "ru": "Экономика"}, "categories": ["economy"]},
    {"code": "culture", "name": {"en": "Culture", "ru": "Культура"}, "categories": ["culture"]},
]


def catalog() -> Catalog:
    return make_catalog([], topics=TOPICS)


def link(key: str, lang: str) -> str:
    return f"https://caucasus-wire.example/{lang}/{key}/"


async def story(
    parts: Parts,
    key: str,
    title: str,
    now: datetime,
    *topics: str,
    lang: str = "en",
    versions: tuple[str, ...] = (),
) -> None:
    """An article of Georgia as the Ingestor stores it, with its topics and links to its
    ``versions`` in other languages."""
    url = link(key, lang)
    async with parts.sessions.begin() as session:
        article = NewArticle(
            key=f"{key}-{lang}",
            url=url,
            canonical_url=url,
            title=title,
            summary="Details in the article.",
            language=lang,
            regions=("georgia",),
            feed_id=None,
            published_at=now,
            announced=True,
            topics=topics,
        )
        article_id = await insert_article(session, article, now)
        alternates = json.dumps([[other, link(key, other)] for other in versions])
        await session.execute(
            update(ArticleRow).where(ArticleRow.id == article_id).values(alternates=alternates)
        )
        await enqueue_article(session, article_id, lang, ["georgia"], now)


async def follows_of(parts: Parts, address: int) -> tuple[tuple[str, ...], list[str]]:
    async with parts.sessions() as session:
        row = await session.scalar(select(ChatRow).where(ChatRow.address == str(address)))
        assert row is not None
        found = await chat_follows(session, row.id)
    return found.topics, [label for _, label in found.keywords]


def posts(api: FakeBotAPI, chat: int) -> list[str]:
    """Titles of the article posts a chat got (posts carry a URL button)."""
    return [
        m.plain_text.split("\n")[0]
        for m in api.messages_to(chat)
        if m.reply_markup
        and any("url" in b for r in m.reply_markup.get("inline_keyboard", []) for b in r)
    ]


async def answer_prompt(api: FakeBotAPI, prompt: SentMessage, text: str) -> None:
    """The reader answers the bot's reply prompt, as Telegram sends such a reply."""
    replied = {
        "message_id": prompt.message_id,
        "from": api.bot_user,
        "chat": {"id": READER, "type": "private", "first_name": "Reader"},
        "date": 0,
        "text": prompt.plain_text,
    }
    before = len(api.messages_to(READER))
    api.push_message(READER, READER, text, extra={"reply_to_message": replied})
    await api.wait_for(lambda: len(api.messages_to(READER)) > before, within=10)


async def test_reader_follows_a_topic_and_keywords_and_gets_only_those(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.push_message(READER, READER, "/start georgia-en-economy")
        await next_from_bot(api, READER, "sendMessage", 1)
        assert "Topics: Economy" in api.messages_to(READER)[0].plain_text
        assert await follows_of(parts, READER) == (("economy",), [])

        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 2)
        assert "Topics: Economy" in latest(api, READER).plain_text  # type: ignore[union-attr]
        await tap(api, READER, READER, "Topics and keywords")
        screen = latest(api, READER)
        assert screen is not None and {"✅ Economy", "Culture"} <= set(buttons(screen))
        await tap(api, READER, READER, "➕ Add a keyword")
        prompt = latest(api, READER)
        assert prompt is not None and prompt.reply_markup == {
            "force_reply": True,
            "input_field_placeholder": "Karabakh, Batumi*",
        }
        await answer_prompt(api, prompt, "ᲑᲐᲗᲣᲛᲘ, երևան, ЁЛКА, x y z w")
        reply = latest(api, READER)
        assert reply is not None and "Added: ᲑᲐᲗᲣᲛᲘ, երևան, ЁЛКА" in reply.plain_text
        assert "Not added: x y z w" in reply.plain_text
        assert "✖ երևան" in buttons(reply)

        await story(parts, "e1", "Lari steady", clock.now(), "economy")
        await story(parts, "c1", "Opera season opens", clock.now(), "culture")
        await story(parts, "k1", "ბათუმი: ახალი პორტი", clock.now(), "culture")
        await story(parts, "k2", "ԵՐԵՎԱՆ. Նոր կամուրջ", clock.now())
        await story(parts, "k3", "Новогодняя елка в Тбилиси", clock.now())
        await story(parts, "n1", "Weather in Tbilisi", clock.now())
        await parts.sender.drain(within=20)
        got = posts(api, READER)
        assert sorted(got) == sorted(
            [
                "Lari steady",
                "ბათუმი: ახალი პორტი",
                "ԵՐԵՎԱՆ. Նոր կամուրջ",
                "Новогодняя елка в Тбилиси",
            ]
        )

        # Removing a keyword and the topic: every story of the region again.
        for label in ("✖ երևան", "✅ Economy"):
            screen = api.message(READER, reply.message_id)
            query = api.push_callback_query(
                READER, buttons(screen)[label], chat_id=READER, message_id=reply.message_id
            )
            qid = str(query["callback_query"]["id"])
            await api.wait_for(lambda qid=qid: qid in api.callback_answers, within=10)
        assert await follows_of(parts, READER) == ((), ["ЁЛКА", "ᲑᲐᲗᲣᲛᲘ"])

        # Keywords alone: only the stories that hold one arrive.
        before = len(posts(api, READER))
        await story(parts, "k4", "Ёлка на площади", clock.now(), "economy")
        await story(parts, "e2", "Lari falls", clock.now(), "economy")
        await parts.sender.drain(within=20)
        assert posts(api, READER)[before:] == ["Ёлка на площади"]


async def test_ten_keywords_at_most_and_forged_buttons_change_nothing(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.push_message(READER, READER, "/start georgia-en")
        await next_from_bot(api, READER, "sendMessage", 1)
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 2)
        await tap(api, READER, READER, "Topics and keywords")
        screen = latest(api, READER)
        assert screen is not None
        await tap(api, READER, READER, "➕ Add a keyword")
        prompt = latest(api, READER)
        assert prompt is not None
        words = ", ".join(f"word{i}" for i in range(MAX_KEYWORDS + 2))
        await answer_prompt(api, prompt, words)
        reply = latest(api, READER)
        assert reply is not None and f"at most {MAX_KEYWORDS} keywords" in reply.plain_text
        assert "➕ Add a keyword" not in buttons(reply)
        _, keywords = await follows_of(parts, READER)
        assert len(keywords) == MAX_KEYWORDS

        # Another user's button, an altered one and a made-up one are refused.
        economy = buttons(screen)["Economy"]
        altered = economy.replace("fT.0", "fT.1")
        for user, data in [
            (READER + 1, economy),
            (READER, altered),
            (READER, "fT.0~1~AAAAAAAAAAA"),
        ]:
            query = api.push_callback_query(
                user, data, chat_id=READER, message_id=screen.message_id
            )
            qid = str(query["callback_query"]["id"])
            await api.wait_for(lambda qid=qid: qid in api.callback_answers, within=10)
            assert "button" in str(api.callback_answers[qid].get("text", "")).lower()
        assert (await follows_of(parts, READER))[0] == ()


async def test_channel_with_topics_gets_only_matching_stories(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.set_chat(CHANNEL, "channel", title="CW Business")
        api.set_member(CHANNEL, ADMIN, "creator")
        api.set_member(CHANNEL, api.bot_user["id"], "administrator", can_post_messages=True)
        api.push_message(ADMIN, ADMIN, "/channels")
        await next_from_bot(api, ADMIN, "sendMessage", 1)
        api.push_chat_shared(ADMIN, 1, CHANNEL)
        await next_from_bot(api, ADMIN, "sendMessage", 2)
        await tap(api, ADMIN, ADMIN, "Georgia")
        await tap(api, ADMIN, ADMIN, "Done")
        card = latest(api, ADMIN)
        assert card is not None and "Topics: all" in card.plain_text
        await tap(api, ADMIN, ADMIN, "Topics")
        assert "CW Business: topics" in latest(api, ADMIN).plain_text  # type: ignore[union-attr]
        await tap(api, ADMIN, ADMIN, "Economy")
        assert "✅ Economy" in buttons(latest(api, ADMIN))
        await tap(api, ADMIN, ADMIN, "« Back")
        assert "Topics: Economy" in latest(api, ADMIN).plain_text  # type: ignore[union-attr]

        await story(parts, "e1", "Lari steady", clock.now(), "economy")
        await story(parts, "c1", "Opera season opens", clock.now(), "culture")
        await story(parts, "n1", "Weather in Tbilisi", clock.now())
        await parts.sender.drain(within=20)
        assert posts(api, CHANNEL) == ["Lari steady"]
        row, regions = await subscription(parts, CHANNEL)
        assert row is not None and regions == ["georgia"]


async def languages_of(parts: Parts, address: int) -> tuple[str, list[str]]:
    async with parts.sessions() as session:
        row = await session.scalar(select(ChatRow).where(ChatRow.address == str(address)))
        assert row is not None
        return row.language, await chat_languages(session, row.id)


async def test_two_languages_and_a_topic_each_story_once_first_language_first(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.push_message(READER, READER, "/start georgia-ru-economy")
        await next_from_bot(api, READER, "sendMessage", 1)
        api.push_message(READER, READER, "/start georgia-en-economy")  # adds, not replaces
        await next_from_bot(api, READER, "sendMessage", 2)
        added = latest(api, READER)
        assert added is not None and "Добавлено: Грузия · English" in added.plain_text
        assert "Русский, English" in added.plain_text and "Отменить" in buttons(added)
        assert await languages_of(parts, READER) == ("ru", ["en"])

        now = clock.now()
        await story(parts, "s1", "Lari steady", now, "economy", versions=("ru",))
        await story(parts, "s1", "Лари стабилен", now, "economy", lang="ru", versions=("en",))
        await story(parts, "s2", "Wine exports grow", now, "economy")
        await story(parts, "s3", "Opera season", now, "culture", versions=("ru",))
        await story(parts, "s3", "Оперный сезон", now, "culture", lang="ru", versions=("en",))
        await story(parts, "s4", "Налоги снизят", now, "economy", lang="ru", versions=("en",))
        await story(parts, "s4", "Taxes to fall", now, "economy", versions=("ru",))
        await parts.sender.drain(within=20)
        assert sorted(posts(api, READER)) == sorted(
            ["Лари стабилен", "Wine exports grow", "Налоги снизят"]
        )


async def test_undo_a_language_a_link_added_and_toggle_one_in_settings(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.push_message(READER, READER, "/start georgia-en")
        await next_from_bot(api, READER, "sendMessage", 1)
        api.push_message(READER, READER, "/start armenia-ru")
        await next_from_bot(api, READER, "sendMessage", 2)
        assert await languages_of(parts, READER) == ("en", ["ru"])
        assert (await subscription(parts, READER))[1] == ["armenia", "georgia"]
        await tap(api, READER, READER, "Undo")
        assert "Undone. Your languages: English" in latest(api, READER).plain_text  # type: ignore[union-attr]
        assert await languages_of(parts, READER) == ("en", [])
        assert (await subscription(parts, READER))[1] == ["georgia"]

        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 3)
        await tap(api, READER, READER, "Language")
        await tap(api, READER, READER, "Also: ქართული")
        assert "✅ Also: ქართული" in buttons(latest(api, READER))
        assert await languages_of(parts, READER) == ("en", ["ka"])
        await tap(api, READER, READER, "Русский")  # a new first language
        assert await languages_of(parts, READER) == ("ru", ["ka"])


async def test_a_startgroup_link_with_a_topic_connects_the_group_with_it(
    database_url: str,
) -> None:
    group = -1003000000101
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.set_chat(group, "supergroup", title="Tbilisi Business")
        api.set_member(group, ADMIN, "creator")
        api.set_member(group, api.bot_user["id"], "member")
        api.push_message(group, ADMIN, f"/start@{api.bot_user['username']} georgia-en-culture")
        await next_from_bot(api, group, "sendMessage", 1)
        assert await follows_of(parts, group) == (("culture",), [])
        await story(parts, "e1", "Lari steady", clock.now(), "economy")
        await story(parts, "c1", "Opera season opens", clock.now(), "culture")
        await parts.sender.drain(within=20)
        assert posts(api, group) == ["Opera season opens"]


async def test_a_digest_lists_each_story_once_in_the_first_language_and_only_followed_topics(
    database_url: str,
) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, clock, catalog=catalog()) as parts,
    ):
        api.push_message(READER, READER, "/start georgia-ru-economy")
        await next_from_bot(api, READER, "sendMessage", 1)
        api.push_message(READER, READER, "/start georgia-en-economy")
        await next_from_bot(api, READER, "sendMessage", 2)
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 3)
        await tap(api, READER, READER, "Режим получения")
        await tap(api, READER, READER, "Раз в день (дайджест)")
        await tap(api, READER, READER, "18:00")

        clock.advance(hours=1)
        now = clock.now()
        await story(parts, "s1", "Lari steady", now, "economy", versions=("ru",))
        await story(parts, "s1", "Лари стабилен", now, "economy", lang="ru", versions=("en",))
        await story(parts, "s2", "Wine exports grow", now, "economy")
        await story(parts, "s3", "Opera season", now, "culture", versions=("ru",))
        await story(parts, "s3", "Оперный сезон", now, "culture", lang="ru", versions=("en",))
        await story(parts, "s4", "Taxes to fall", now, "economy", versions=("ru",))
        await story(parts, "s4", "Налоги снизят", now, "economy", lang="ru", versions=("en",))
        clock.advance(hours=4)  # 19:00 in Tbilisi
        job = DigestJob(parts.services.catalog, parts.translator, parts.sessions, clock)
        before = len(api.messages_to(READER))
        assert await run_and_send(parts, job.run) == 1
        digest = "\n".join(m.plain_text for m in api.messages_to(READER)[before:])
        for title in ("Лари стабилен", "Wine exports grow", "Налоги снизят"):
            assert digest.count(title) == 1, digest
        for title in ("Lari steady", "Taxes to fall", "Opera season", "Оперный сезон"):
            assert title not in digest, digest
