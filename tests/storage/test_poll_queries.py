"""What a poll reads and writes in storage: known identities, the feed's newest article,
columns set after the insert, corrections and the messages they edit, the WordPress
articles a removal check looks for, and the feeds' REST bases and polling rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.articles import (
    NewArticle,
    correct_article,
    insert_article,
    newest_published,
    recent_wordpress_articles,
    set_article_columns,
    stored_articles,
    stored_identities,
)
from bot.storage.chats import ensure_private_chat
from bot.storage.deliveries import enqueue_article
from bot.storage.delivery_kinds import posts_to_change
from bot.storage.feeds import ensure_feed, polling_rows, stored_rest_bases, write_polled
from bot.storage.models import ArticleRow, ChatRegionRow, OutboxRow

NOW = datetime(2026, 3, 2, 9, 0)
FEED = "https://caucasus-wire.example/feed/"


def article(key: str, feed_id: int | None, published: datetime | None = None) -> NewArticle:
    url = f"https://caucasus-wire.example/{key.replace(':', '-')}/"
    return NewArticle(
        key=key,
        url=url,
        canonical_url=url,
        title=f"Story {key}",
        summary="The council met on Monday in Tbilisi.",
        language="en",
        regions=("georgia",),
        feed_id=feed_id,
        published_at=published,
        announced=True,
    )


async def test_a_polls_reads_of_stored_articles(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        feed = (await ensure_feed(session, FEED)).id
        other = (await ensure_feed(session, FEED + "ru/")).id
        first = await insert_article(session, article("wp:1", feed, NOW - timedelta(hours=3)), NOW)
        await insert_article(session, article("wp:2", feed, NOW - timedelta(hours=1)), NOW)
        await insert_article(session, article("g:3", other, NOW), NOW)
        await insert_article(session, article("wp:4", feed, NOW - timedelta(days=5)), NOW)
    async with sessions() as session:
        assert await stored_identities(session, ["wp:1", "nope"]) == {
            "wp:1": ("https://caucasus-wire.example/wp-1/", "Story wp:1")
        }
        assert await newest_published(session, feed) == NOW - timedelta(hours=1)
        assert await newest_published(session, feed + 100) is None
        stored = await stored_articles(session, ["wp:1", "g:3"], feed, NOW - timedelta(days=1))
        assert list(stored) == ["wp:1"]  # another feed's article is not this feed's to correct
        assert stored["wp:1"].article_id == first and stored["wp:1"].text_source == "feed"
        assert await stored_articles(session, [], feed, NOW) == {}
        recent = await recent_wordpress_articles(session, FEED, NOW - timedelta(days=1))
        assert sorted(key for key, _ in recent) == ["wp:1", "wp:2"]  # wp:4 published before


async def test_a_correction_rewrites_the_article_and_finds_the_messages_to_edit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        for chat_id in (1, 2, 3):
            chat = await ensure_private_chat(session, chat_id, "Reader", "en", NOW)
            session.add(ChatRegionRow(chat_id=chat.id, region="georgia"))
        aid = await insert_article(session, article("k", None), NOW)
        await set_article_columns(session, aid, {"text_source": "page", "fanout_after": 0})
        assert await enqueue_article(session, aid, "en", ["georgia"], NOW) == 3
        posts = sorted(await session.scalars(select(OutboxRow.id)))
        states = {posts[0]: ("sent", 11), posts[1]: ("inflight", None), posts[2]: ("sent", None)}
        for post, (state, message) in states.items():
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == post)
                .values(state=state, message_id=message)
            )
    async with sessions.begin() as session:
        row = await session.get(ArticleRow, aid)
        assert row is not None and (row.text_source, row.fanout_after) == ("page", 0)
        # sent with a message id, or being sent now; a "sent" row without an id is not
        assert sorted(await posts_to_change(session, aid)) == posts[:2]
        await correct_article(
            session, aid, title="Fixed", summary="Better.", alternates="", now=NOW
        )
    async with sessions() as session:
        row = await session.get(ArticleRow, aid)
        assert row is not None
        assert (row.title, row.summary, row.text_source) == ("Fixed", "Better.", "feed")
        assert "fixed" in row.search_text.lower()


async def test_feeds_polling_rows_are_read_and_written_in_shared_statements(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        one = await ensure_feed(session, FEED)
        one.wordpress_api = "https://caucasus-wire.example/wp-json/wp/v2/"
        two = (await ensure_feed(session, FEED + "ru/")).id
    async with sessions.begin() as session:
        await write_polled(
            session,
            [
                {"feed_id": one.id, "etag": '"a"', "consecutive_failures": 0},
                {"feed_id": two, "etag": '"b"'},
            ],
        )
    async with sessions() as session:
        rows = await polling_rows(session, [FEED, FEED + "ru/", FEED + "gone/", FEED])
        bases = await stored_rest_bases(session)
    assert sorted(rows) == [FEED, FEED + "ru/"]
    assert (rows[FEED].etag, rows[FEED + "ru/"].etag) == ('"a"', '"b"')
    assert rows[FEED].id == one.id
    assert bases == {FEED: "https://caucasus-wire.example/wp-json/wp/v2/", FEED + "ru/": None}
