"""Push from the CMS: ``POST /ingest`` with an HMAC-signed body, and ``Ingestor.push``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web.ingest import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    IngestHook,
    PushRequest,
    parse_push,
    sign,
    verify,
)
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import REST, SITE, FakeWordPress, Post, articles, catalog_for, outbox, rig

SECRET = "s3cret-shared-with-the-cms"


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """The headers the CMS sends with ``body``, signed now (or at ``at``)."""
    timestamp = str(int(time.time()) if at is None else at)
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def test_signature_round_trip_and_tampering() -> None:
    body, at = b'{"post_id": 5}', "1764700000"
    header = sign(SECRET, at, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(SECRET, at, body, header) == header.removeprefix("sha256=")
    assert verify(SECRET, at, body, header.removeprefix("sha256=").upper())
    assert verify(SECRET, at, body + b" ", header) is None
    assert verify(SECRET, "1764700001", body, header) is None  # the time is signed too
    assert verify("other", at, body, header) is None
    assert verify(SECRET, at, body, None) is None and verify(SECRET, at, body, "") is None


def test_push_body_names_a_post_or_a_url() -> None:
    assert parse_push(b'{"post_id": 5}') == PushRequest(5, None)
    assert parse_push(b'{"id": "12", "link": "https://s.example/a/"}') == PushRequest(
        12, "https://s.example/a/"
    )
    assert parse_push(b'{"post_id": 5, "breaking": true}') == PushRequest(5, None, True)
    assert parse_push(b'{"post_id": 5, "breaking": "no"}') == PushRequest(5, None, False)
    for bad in (b"", b"[]", b"{}", b'{"post_id": true}', b'{"url": "javascript:x"}', b"\xff"):
        assert parse_push(bad) is None, bad


@pytest.fixture
async def hooked(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], list[PushRequest]]]:
    pushed: list[PushRequest] = []

    async def push(request: PushRequest) -> None:
        pushed.append(request)

    app = web.Application()
    IngestHook(SECRET, push, sessions).install(app)
    async with TestClient(TestServer(app)) as client:
        yield client, pushed


async def test_signed_request_is_accepted_and_pushed(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
) -> None:
    client, pushed = hooked
    body = json.dumps({"post_id": 42, "url": f"{SITE}/42/"}).encode()
    response = await client.post("/ingest", data=body, headers=signed(body))
    assert response.status == 202
    await asyncio.sleep(0.05)
    assert pushed == [PushRequest(42, f"{SITE}/42/")]


async def test_bad_or_missing_signature_is_refused_and_logged(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, pushed = hooked
    body = b'{"post_id": 42}'
    bad_signature = {**signed(body), SIGNATURE_HEADER: "sha256=zz"}
    no_signature = {TIMESTAMP_HEADER: signed(body)[TIMESTAMP_HEADER]}
    for headers in (no_signature, signed(body, "wrong-secret-of-enough-length"), bad_signature):
        response = await client.post("/ingest", data=body, headers=headers)
        assert response.status == 401
    assert pushed == []
    assert len([r for r in caplog.records if "bad signature" in r.getMessage()]) == 3


async def test_unusable_or_oversized_bodies_are_refused(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
) -> None:
    client, pushed = hooked
    body = b'{"nothing": 1}'
    response = await client.post("/ingest", data=body, headers=signed(body))
    assert response.status == 400
    huge = b"{" + b" " * (70 * 1024) + b"}"
    response = await client.post("/ingest", data=huge, headers=signed(huge))
    assert response.status == 413
    assert pushed == []


async def test_without_a_secret_the_endpoint_is_off(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def push(request: PushRequest) -> None:
        raise AssertionError("must not be called")

    app = web.Application()
    IngestHook(None, push, sessions).install(app)
    async with TestClient(TestServer(app)) as client:
        body = b'{"post_id": 1}'
        response = await client.post("/ingest", data=body, headers=signed(body, ""))
        assert response.status == 404


async def test_pushed_post_is_sent_within_seconds_and_never_twice(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    """Through the real endpoint: the post is read from the REST API and enqueued at once;
    the next poll, whose feed now shows the post, adds nothing."""
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "wordpress": server.url(REST)}])
    site.publish([Post(1, clock.now() - timedelta(hours=1), "Georgia")])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        done = asyncio.Event()

        async def push(request: PushRequest) -> None:
            await r.ingestor.push(post_id=request.post_id, url=request.url)
            done.set()

        app = web.Application()
        IngestHook(SECRET, push, sessions, clock).install(app)
        async with TestClient(TestServer(app)) as client:
            site.posts.append(Post(2, clock.now(), "Armenia"))  # published, not yet in the feed
            site.server.set_handler(f"{REST}posts/2", site._one(site.posts[-1]))
            body = json.dumps({"post_id": 2, "url": f"{SITE}/2/"}).encode()
            at = int(clock.now().replace(tzinfo=UTC).timestamp())
            response = await client.post("/ingest", data=body, headers=signed(body, at=at))
            assert response.status == 202
            await asyncio.wait_for(done.wait(), 5)
        assert [o.article_id for o in await outbox(sessions)] == [
            a.id for a in await articles(sessions) if a.key.endswith(":2")
        ]
        site.publish([])  # the feed now lists post 2 as well
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
        assert report.outcome == "unchanged"
    assert len(await outbox(sessions)) == 1
    assert server.hits["/feed/"] == 2  # the push read the REST API, not the feed


async def test_push_without_rest_api_polls_the_feed_now(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    site = FakeWordPress(server)
    clock = FakeClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 3600}])
    site.publish([Post(1, clock.now() - timedelta(hours=1), "Georgia")])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        site.publish([Post(2, clock.now(), "Armenia")])
        reports = await r.ingestor.push(post_id=2, url=f"{SITE}/2/")
    assert [(rep.outcome, rep.deliveries) for rep in reports] == [("new", 1)]
