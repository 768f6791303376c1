"""Push from the CMS: ``POST /ingest`` with an HMAC-signed body, and ``Ingestor.push``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web.ingest import SIGNATURE_HEADER, IngestHook, PushRequest, parse_push, sign, verify
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import (
    REST,
    SITE,
    FakeWordPress,
    ManualClock,
    Post,
    articles,
    catalog_for,
    outbox,
    rig,
)

SECRET = "s3cret-shared-with-the-cms"


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"post_id": 5}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(SECRET, body, header)
    assert verify(SECRET, body, header.removeprefix("sha256="))
    assert not verify(SECRET, body + b" ", header)
    assert not verify("other", body, header)
    assert not verify(SECRET, body, None) and not verify(SECRET, body, "")


def test_push_body_names_a_post_or_a_url() -> None:
    assert parse_push(b'{"post_id": 5}') == PushRequest(5, None)
    assert parse_push(b'{"id": "12", "link": "https://s.example/a/"}') == PushRequest(
        12, "https://s.example/a/"
    )
    for bad in (b"", b"[]", b"{}", b'{"post_id": true}', b'{"url": "javascript:x"}', b"\xff"):
        assert parse_push(bad) is None, bad


@pytest.fixture
async def hooked() -> AsyncIterator[
    tuple[TestClient[web.Request, web.Application], list[PushRequest]]
]:
    pushed: list[PushRequest] = []

    async def push(request: PushRequest) -> None:
        pushed.append(request)

    app = web.Application()
    IngestHook(SECRET, push).install(app)
    async with TestClient(TestServer(app)) as client:
        yield client, pushed


async def test_signed_request_is_accepted_and_pushed(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
) -> None:
    client, pushed = hooked
    body = json.dumps({"post_id": 42, "url": f"{SITE}/42/"}).encode()
    response = await client.post(
        "/ingest", data=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
    )
    assert response.status == 202
    await asyncio.sleep(0.05)
    assert pushed == [PushRequest(42, f"{SITE}/42/")]


async def test_bad_or_missing_signature_is_refused_and_logged(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, pushed = hooked
    body = b'{"post_id": 42}'
    for headers in ({}, {SIGNATURE_HEADER: sign("wrong", body)}, {SIGNATURE_HEADER: "sha256=zz"}):
        response = await client.post("/ingest", data=body, headers=headers)
        assert response.status == 401
    assert pushed == []
    assert len([r for r in caplog.records if "bad signature" in r.getMessage()]) == 3


async def test_unusable_or_oversized_bodies_are_refused(
    hooked: tuple[TestClient[web.Request, web.Application], list[PushRequest]],
) -> None:
    client, pushed = hooked
    body = b'{"nothing": 1}'
    response = await client.post(
        "/ingest", data=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
    )
    assert response.status == 400
    huge = b"{" + b" " * (70 * 1024) + b"}"
    response = await client.post(
        "/ingest", data=huge, headers={SIGNATURE_HEADER: sign(SECRET, huge)}
    )
    assert response.status == 413
    assert pushed == []


async def test_without_a_secret_the_endpoint_is_off() -> None:
    async def push(request: PushRequest) -> None:
        raise AssertionError("must not be called")

    app = web.Application()
    IngestHook(None, push).install(app)
    async with TestClient(TestServer(app)) as client:
        body = b'{"post_id": 1}'
        response = await client.post(
            "/ingest", data=body, headers={SIGNATURE_HEADER: sign("", body)}
        )
        assert response.status == 404


async def test_pushed_post_is_sent_within_seconds_and_never_twice(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    """Through the real endpoint: the post is read from the REST API and enqueued at once;
    the next poll, whose feed now shows the post, adds nothing."""
    site = FakeWordPress(server)
    clock = ManualClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "wordpress": server.url(REST)}])
    site.publish([Post(1, clock.now() - timedelta(hours=1), "Georgia")])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        done = asyncio.Event()

        async def push(request: PushRequest) -> None:
            await r.ingestor.push(post_id=request.post_id, url=request.url)
            done.set()

        app = web.Application()
        IngestHook(SECRET, push).install(app)
        async with TestClient(TestServer(app)) as client:
            site.posts.append(Post(2, clock.now(), "Armenia"))  # published, not yet in the feed
            site.server.set_handler(f"{REST}posts/2", site._one(site.posts[-1]))
            body = json.dumps({"post_id": 2, "url": f"{SITE}/2/"}).encode()
            response = await client.post(
                "/ingest", data=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
            )
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
    clock = ManualClock()
    catalog = catalog_for([{"url": server.url("/feed/"), "interval": 3600}])
    site.publish([Post(1, clock.now() - timedelta(hours=1), "Georgia")])
    async with rig(sessions, catalog, clock=clock) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        site.publish([Post(2, clock.now(), "Armenia")])
        reports = await r.ingestor.push(post_id=2, url=f"{SITE}/2/")
    assert [(rep.outcome, rep.deliveries) for rep in reports] == [("new", 1)]
