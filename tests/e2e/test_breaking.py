"""Breaking news through the whole bot: a CMS push marked breaking reaches its channel
first (ahead of a queued broadcast) and pinned, within seconds, and digest readers who
kept breaking alerts on get it at once, even in their quiet hours; the pin is lifted when
``pin_breaking_hours`` are over. A catalog ``breaking`` category works the same way."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import assemble
from bot.storage.models import OutboxRow
from bot.web.ingest import PushRequest, parse_push
from handlers.pins import UnpinJob
from tests.audience.support import add_private_reader, publish
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI, SentMessage, ptb_bot
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import FAST, REST, SITE, FakeWordPress, Post

READERS = 40
DIGEST_READER = "7001"
NO_ALERTS_READER = "7002"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def quiet_now() -> dict[str, object]:
    """Digest mode, with quiet hours around the current UTC time."""
    minute = now().hour * 60 + now().minute
    return {
        "mode": "digest",
        "timezone": "UTC",
        "quiet_start": (minute - 60) % 1440,
        "quiet_end": (minute + 60) % 1440,
        "last_digest_at": now(),
    }


def test_the_push_body_carries_the_breaking_flag() -> None:
    assert parse_push(b'{"post_id": 5, "breaking": true}') == PushRequest(5, None, True)
    pushed = parse_push(b'{"post_id": 5, "breaking": "yes"}')
    assert pushed is not None and not pushed.breaking


async def test_a_pushed_breaking_story_goes_first_pinned_and_to_digest_readers_at_once(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with FakeBotAPI() as api, FeedServer() as server:
        declare_channels(api)
        site = FakeWordPress(server)
        site.publish([Post(1, now() - timedelta(hours=2), "Georgia")])
        catalog = make_catalog(
            [],
            feeds=[
                {
                    "url": server.url("/feed/"),
                    "language": "en",
                    "wordpress": server.url(REST),
                    "interval": 3600,
                }
            ],
            channels=[
                {
                    "chat": "@cw_georgia",
                    "regions": ["georgia"],
                    "language": "en",
                    "pin_breaking_hours": 2,
                    "silent_at_night": True,
                }
            ],
        )
        settings = make_settings(api, database_url)
        async with assemble(settings, catalog, dry_run=False, fetch_limits=FAST) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            async with sessions.begin() as session:
                for n in range(READERS):
                    await add_private_reader(session, str(5000 + n), ["georgia"], now())
                await add_private_reader(session, DIGEST_READER, ["georgia"], now(), **quiet_now())
                await add_private_reader(
                    session,
                    NO_ALERTS_READER,
                    ["georgia"],
                    now(),
                    **quiet_now(),
                    breaking_alerts=False,
                )
            await parts.ingestor.poll_all()  # the feed is known; post 1 is history
            old = await publish(
                parts, "old", "Yesterday's council story", "en", ("georgia",), now()
            )
            stop = asyncio.Event()
            sender = asyncio.create_task(parts.sender.run(stop))
            try:
                await api.wait_for(lambda: len(api.sent) >= 10, within=20)
                site.posts.append(Post(2, now(), "Georgia"))
                server.set_handler(f"{REST}posts/2", site._one(site.posts[-1]))
                pushed_at, sent_before = time.monotonic(), len(api.sent)
                await parts.ingestor.push(post_id=2, url=f"{SITE}/2/", breaking=True)
                await api.wait_for(lambda: bool(breaking_to(api, GEORGIA_CHANNEL)), within=5)
                took = time.monotonic() - pushed_at
                await api.wait_for(lambda: bool(breaking_to(api, int(DIGEST_READER))), within=10)
                await api.wait_for(lambda: len(api.sent) >= 2 * READERS + 3, within=30)
                # The pin is an outbox row of its own, queued when the post is recorded.
                await api.wait_for(lambda: bool(api.pinned.get(GEORGIA_CHANNEL)), within=10)
            finally:
                stop.set()
                await sender
                await parts.application.shutdown()

        assert took < 5.0
        [post] = breaking_to(api, GEORGIA_CHANNEL)
        assert post.plain_text.startswith("🔴 Breaking: Tbilisi story")
        assert api.pinned[GEORGIA_CHANNEL] == [post.message_id]
        assert "disable_notification" not in post.params  # breaking news rings at night too
        # First: ahead of the rest of the queued broadcast (at most the batch already
        # claimed went out before it), and the other breaking deliveries before the rest.
        after_push = api.sent[sent_before:]
        assert after_push.index(post) <= 2 * parts.sender.wave_size
        breaking = [m for m in after_push if "Tbilisi story" in m.plain_text]
        last_breaking = max(after_push.index(m) for m in breaking)
        assert any("council story" in m.plain_text for m in after_push[last_breaking:])
        assert len(breaking) == READERS + 2  # channel, instant readers, the digest reader
        assert breaking_to(api, int(NO_ALERTS_READER)) == []
        async with sessions() as session:
            rows = list(await session.scalars(select(OutboxRow)))
        posts = [r for r in rows if r.kind == "post"]
        urgent = [r.priority for r in posts if r.article_id != old]
        usual = [r.priority for r in posts if r.article_id == old]
        assert len(urgent) == READERS + 2 and max(urgent) < min(usual)
        [pin] = [r for r in rows if r.kind == "pin"]  # once, right behind its post
        assert pin.state == "sent" and pin.priority < min(urgent)

        # Two hours later the unpin job lifts the pin.
        async with ptb_bot(api) as bot:
            soon = FakeClock(now() + timedelta(hours=1))
            assert await UnpinJob(sessions, bot, soon).run() == 0  # not yet
            assert api.pinned[GEORGIA_CHANNEL] == [post.message_id]
            later = FakeClock(now() + timedelta(hours=2, minutes=1))
            assert await UnpinJob(sessions, bot, later).run() == 1
            assert api.pinned[GEORGIA_CHANNEL] == []
            assert await UnpinJob(sessions, bot, later).run() == 0  # once


def breaking_to(api: FakeBotAPI, chat_id: int) -> list[SentMessage]:
    return [m for m in api.messages_to(chat_id) if m.plain_text.startswith("🔴 Breaking:")]
