"""Donation appeal cadence: a button on every post, the appeal line on every Nth post,
never for readers who hid appeals (read from the chat row when the row is claimed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Translator
from bot.outbox.compose import PostBuilder, appeal_due
from bot.outbox.queue import Delivery
from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from bot.storage.delivery_claims import claim_due
from bot.storage.models import ChatRegionRow, ChatRow
from tests.e2e.support import make_catalog

NOW = datetime(2026, 11, 20, 12, 0)
APPEAL = "Support independent journalism"
LINKS = [{"label": "Support us", "url": "https://caucasus-wire.example/support/"}]


def delivery(article_id: int, *, hide: bool = False, chat: str = "-1001") -> Delivery:
    return Delivery(
        id=article_id,
        attempts=0,
        plain_text=False,
        chat_pk=1,
        address=chat,
        thread_id=0,
        chat_kind="channel",
        chat_language="en",
        article_id=article_id,
        title=f"Article {article_id}",
        url=f"https://caucasus-wire.example/{article_id}/",
        summary="The first sentence.",
        regions=("georgia",),
        hide_appeals=hide,
    )


def builder(**donate: Any) -> PostBuilder:
    catalog = make_catalog([], donate={"text": {"en": APPEAL}, "links": LINKS, **donate})
    return PostBuilder(catalog, Translator.load(["en"], "en"))


def urls(message: Any) -> list[str]:
    return [b.url for row in message.buttons for b in row]


def test_appeal_due() -> None:
    assert [n for n in range(1, 10) if appeal_due(n, 3)] == [3, 6, 9]
    assert not appeal_due(3, 3, breaking=True)
    assert not any(appeal_due(n, 0) for n in range(10))


def test_button_on_every_post_and_the_line_on_every_nth() -> None:
    posts = builder(appeal_every=3)
    with_line = posts.build(delivery(6))
    without = posts.build(delivery(7))
    assert APPEAL in with_line.text and APPEAL not in without.text
    assert with_line.text.index("The first sentence.") < with_line.text.index(APPEAL)
    assert with_line.text.index(APPEAL) < with_line.text.index("#Georgia")
    for message in (with_line, without):
        assert "https://caucasus-wire.example/support/" in urls(message)


def test_readers_who_hid_appeals_get_neither() -> None:
    posts = builder(appeal_every=3)
    shown = posts.build(delivery(6))
    hidden = posts.build(delivery(6, hide=True, chat="555"))
    assert APPEAL not in hidden.text
    assert urls(hidden) == ["https://caucasus-wire.example/6/"]
    assert APPEAL in shown.text  # the cache keeps the two renderings apart
    assert posts.build(delivery(6)).text == shown.text


def test_button_can_be_turned_off() -> None:
    message = builder(button=False).build(delivery(6))
    assert urls(message) == ["https://caucasus-wire.example/6/"]
    assert APPEAL not in message.text  # no cadence configured: no line either


async def test_claimed_deliveries_carry_the_readers_choice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        for address, hide in (("101", True), ("102", False)):
            chat = ChatRow(
                address=address,
                thread_id=0,
                kind="private",
                title=address,
                language="en",
                origin="user",
                active=True,
                paused=False,
                mode="instant",
                priority=2,
                created_at=NOW,
                updated_at=NOW,
                hide_appeals=hide,
            )
            session.add(chat)
            await session.flush()
            session.add(ChatRegionRow(chat_id=chat.id, region="georgia"))
        article_id = await insert_article(
            session,
            NewArticle(
                key="k1",
                url="https://caucasus-wire.example/1/",
                canonical_url="https://caucasus-wire.example/1/",
                title="Article",
                summary="",
                language="en",
                regions=("georgia",),
                feed_id=None,
                published_at=None,
                announced=True,
            ),
            NOW,
        )
        assert await enqueue_article(session, article_id, "en", ("georgia",), NOW) == 2
    async with sessions.begin() as session:
        claimed = await claim_due(session, NOW, 10)
    assert {d.address: d.hide_appeals for d in claimed} == {"101": True, "102": False}
