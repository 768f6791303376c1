"""``POST /ingest`` as CMSs really send it, over a raw socket to a real listener: bodies in
several TCP writes and chunked, replays, stale timestamps, size limits, and pushes of one
post merged while its fetch runs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import IngestReplayRow
from bot.web.ingest import (
    MAX_BODY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WINDOW,
    IngestHook,
    PushRequest,
    sign,
)

SECRET = "cms-shared-secret-0123456789"


@dataclass
class Hook:
    """A listening ``/ingest`` whose push records what it was asked to fetch; while
    ``hold`` is clear every fetch waits for it."""

    port: int
    pushed: list[PushRequest] = field(default_factory=list)
    hold: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def hook(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Hook]:
    state = Hook(port=0)
    state.hold.set()

    async def push(request: PushRequest) -> None:
        state.pushed.append(request)
        await state.hold.wait()

    app = web.Application()
    IngestHook(SECRET, push, sessions).install(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = getattr(site, "_server", None)
    state.port = server.sockets[0].getsockname()[1] if server else 0
    try:
        yield state
    finally:
        state.hold.set()
        await runner.cleanup()


def signed_head(body: bytes, *, at: int | str | None = None, chunked: bool = False) -> bytes:
    timestamp = str(int(time.time()) if at is None else at)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    return (
        "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{TIMESTAMP_HEADER}: {timestamp}\r\n"
        f"{SIGNATURE_HEADER}: {sign(SECRET, timestamp, body)}\r\n"
        f"{length}\r\nConnection: close\r\n\r\n"
    ).encode()


async def send_raw(port: int, pieces: list[bytes], pause: float = 0.3) -> tuple[int, bytes]:
    """Write ``pieces`` as separate TCP writes with a pause between; (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(pause)
            writer.write(piece)
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 15)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def post_body(post_id: int, **extra: object) -> bytes:
    return json.dumps(
        {"post_id": post_id, "url": f"https://o.example/{post_id}/", **extra}
    ).encode()


async def settle(hook: Hook) -> None:
    for _ in range(20):
        await asyncio.sleep(0.02)


async def test_a_body_in_two_writes_is_read_whole(hook: Hook) -> None:
    body = post_body(101)
    status, _ = await send_raw(hook.port, [signed_head(body) + body[:9], body[9:]])
    assert status == 202
    await settle(hook)
    assert hook.pushed == [PushRequest(101, "https://o.example/101/")]


async def test_a_chunked_body_is_read_whole(hook: Hook) -> None:
    body = post_body(102, breaking=True)
    pieces = [signed_head(body, chunked=True), chunk(body[:5]), chunk(body[5:20])]
    pieces += [chunk(body[20:]) + chunk(b"")]
    status, _ = await send_raw(hook.port, pieces, pause=0.2)
    assert status == 202
    await settle(hook)
    assert hook.pushed == [PushRequest(102, "https://o.example/102/", breaking=True)]


async def test_a_replay_is_answered_202_and_not_acted_on(hook: Hook) -> None:
    body = post_body(103)
    request = signed_head(body) + body
    first, answer = await send_raw(hook.port, [request])
    await settle(hook)
    again, repeat = await send_raw(hook.port, [request])
    await settle(hook)
    assert (first, again) == (202, 202)
    assert json.loads(repeat) == {"accepted": True, "repeat": True}
    assert "repeat" not in json.loads(answer)
    assert len(hook.pushed) == 1


async def test_timestamps_outside_the_window_are_refused(hook: Hook) -> None:
    body = post_body(104)
    now = int(time.time())
    for at in (now - WINDOW - 5, now + WINDOW + 5):
        status, _ = await send_raw(hook.port, [signed_head(body, at=at) + body])
        assert status == 401
    status, _ = await send_raw(hook.port, [signed_head(body, at=now - WINDOW + 5) + body])
    assert status == 202
    await settle(hook)
    assert len(hook.pushed) == 1


async def test_a_missing_or_malformed_timestamp_is_refused(hook: Hook) -> None:
    body = post_body(105)
    head = signed_head(body).replace(f"{TIMESTAMP_HEADER}: ".encode(), b"X-Other: ")
    assert (await send_raw(hook.port, [head + body]))[0] == 401
    for weird in (f"+{int(time.time())}", f"{time.time():.3f}", "١٧٦٤٧٠٠٠٠٠"):
        assert (await send_raw(hook.port, [signed_head(body, at=weird) + body]))[0] == 401
    assert hook.pushed == []


async def test_bodies_over_64_kib_are_refused_with_or_without_a_length(hook: Hook) -> None:
    exact = b'{"post_id": 106}'.ljust(MAX_BODY, b" ")
    assert (await send_raw(hook.port, [signed_head(exact) + exact]))[0] == 202
    over = b'{"post_id": 107}'.ljust(MAX_BODY + 1, b" ")
    assert (await send_raw(hook.port, [signed_head(over) + over]))[0] == 413
    pieces = [signed_head(over, chunked=True), chunk(over[:40000]), chunk(over[40000:])]
    status, _ = await send_raw(hook.port, [*pieces, chunk(b"")], pause=0.05)
    assert status == 413
    await settle(hook)
    assert [p.post_id for p in hook.pushed] == [106]


async def test_3000_replays_start_one_fetch(
    hook: Hook, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = post_body(108)
    timestamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(SECRET, timestamp, body)}
    url = f"http://127.0.0.1:{hook.port}/ingest"
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=8)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one() -> None:
            async with http.post(url, data=body, headers=headers) as response:
                statuses.append(response.status)

        for _ in range(30):
            await asyncio.gather(*(one() for _ in range(100)))
    await settle(hook)
    assert statuses.count(202) == 3000
    assert len(hook.pushed) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IngestReplayRow)) == 1


async def test_pushes_of_a_post_being_fetched_are_merged_into_one_more_fetch(
    hook: Hook,
) -> None:
    hook.hold.clear()  # the first fetch of each post is still running
    url = f"http://127.0.0.1:{hook.port}/ingest"
    async with aiohttp.ClientSession() as http:
        for number in range(40):  # distinct requests (not replays) about two posts
            post = 109 if number % 4 else 110
            body = post_body(post, revision=number, breaking=number == 7)
            timestamp = str(int(time.time()))
            headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(SECRET, timestamp, body)}
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 202
        await settle(hook)
        assert sorted(p.post_id or 0 for p in hook.pushed) == [109, 110]
        hook.hold.set()
        await settle(hook)
    fetched = sorted((p.post_id or 0, p.breaking) for p in hook.pushed)
    # One more fetch per post for everything that came while its first one ran; the
    # breaking flag of any merged push is kept.
    assert fetched == [(109, False), (109, True), (110, False), (110, False)]


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("openssl") and shutil.which("bash")),
    reason="needs curl, openssl and bash",
)
async def test_the_readme_curl_example_is_accepted(hook: Hook) -> None:
    """The documented ``curl`` + ``openssl`` request, run as written against the hook."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    script = readme.split("<!-- ingest-curl -->\n```sh\n", 1)[1].split("```", 1)[0]
    script = script.replace("https://bot.example.org", f"http://127.0.0.1:{hook.port}")
    env = {**os.environ, "NEWSBOT_INGEST_SECRET": SECRET}
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert json.loads(out) == {"accepted": True}
    await settle(hook)
    assert hook.pushed == [PushRequest(123, "https://jam-news.net/2026/11/story/")]
