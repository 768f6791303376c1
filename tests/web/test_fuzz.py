"""Random bytes and headers to ``/telegram``, ``/ingest`` and ``/r/`` of a real public
listener (webhook on, ingest on, tracked links on): never a 5xx, whatever arrives."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import assemble
from bot.config import Settings
from bot.links import sign as sign_link
from bot.web.ingest import IngestHook, sign
from bot.web.redirect import Redirects
from bot.web.server import make_app
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI

WEBHOOK_SECRET = "webhook-secret-0123456789"
INGEST_SECRET = "ingest-secret-0123456789"
PATHS = ("/telegram", "/ingest", "/r/")
# Headers the client library owns (framing); the raw-socket case sends anything there.
FRAMING = {"content-length", "transfer-encoding", "host", "connection", "expect", "upgrade"}


@dataclass
class Surface:
    url: str
    settings: Settings
    port: int


@pytest.fixture
async def surface(tmp_path: Path) -> AsyncIterator[Surface]:
    async with FakeBotAPI(enforce_limits=False) as api:
        config = make_settings(
            api,
            f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}",
            webhook_url="https://bot.example/telegram",
            webhook_secret=WEBHOOK_SECRET,
            ingest_secret=INGEST_SECRET,
            link_secret="link-secret-0123456789",
            public_url="https://bot.example",
        )
        async with assemble(config, make_catalog([]), dry_run=False) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            clock = parts.services.clock
            redirects = Redirects(config.signing_key(), parts.sessions, clock)

            async def push(request: object) -> None:
                await parts.ingestor.push()

            ingest = IngestHook(INGEST_SECRET, push, parts.sessions, clock)
            app = make_app(config, parts.sessions, parts.application, redirects, ingest)
            try:
                async with TestServer(app, host="127.0.0.1") as server:
                    yield Surface(f"http://127.0.0.1:{server.port}", config, server.port or 0)
            finally:
                await parts.application.shutdown()


TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
HEADER_NAME = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z").filter(
    lambda name: name.lower() not in FRAMING
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# Bodies shaped like a push, with anything in its fields.
PUSH = st.fixed_dictionaries(
    {},
    optional={
        "post_id": st.integers(-5, 2**70) | TEXT | JSON,
        "id": st.integers(-5, 2**70) | TEXT,
        "url": st.sampled_from(["https://o.example/1/", "javascript:x"]) | TEXT | JSON,
        "link": TEXT,
        "breaking": st.booleans() | TEXT | JSON,
    },
).map(lambda value: json.dumps(value).encode())
BODY = st.one_of(st.binary(max_size=600), JSON.map(lambda v: json.dumps(v).encode()), PUSH)


@st.composite
def requests(draw: st.DrawFn, surface: Surface) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, headers, body): sometimes well signed, often not."""
    path = draw(st.sampled_from(PATHS))
    body = draw(BODY)
    headers = draw(st.dictionaries(HEADER_NAME, TEXT, max_size=4))
    if path == "/r/":
        link = sign_link(surface.settings.signing_key(), "article", "https://o.example/a/", "x-en")
        token = draw(st.sampled_from([link, link[:-3], ""]) | TEXT.filter(lambda t: "/" not in t))
        path = "/r/" + token.replace("?", "").replace("#", "")
        headers["X-Forwarded-For"] = draw(st.sampled_from(["203.0.113.5", "1.2.3.4, x"]) | TEXT)
        headers["User-Agent"] = draw(TEXT)
    elif path == "/telegram" and draw(st.booleans()):
        headers["X-Telegram-Bot-Api-Secret-Token"] = WEBHOOK_SECRET
    elif path == "/ingest":
        body = draw(st.sampled_from([body, draw(PUSH)]))
        stamp = draw(st.sampled_from(["now", "now", "now", "0", "junk", "unsigned"]))
        stamp = {"now": str(int(time.time())), "junk": draw(TEXT)}.get(stamp, stamp)
        if stamp != "unsigned":
            headers["X-Newsbot-Timestamp"] = stamp
            headers["X-Newsbot-Signature"] = sign(INGEST_SECRET, stamp, body)
    usual = "GET" if path.startswith("/r/") else "POST"
    method = draw(st.sampled_from([usual] * 6 + ["GET", "POST", "PUT", "HEAD", "OPTIONS"]))
    return method, path, headers, body


async def send_raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        return await asyncio.wait_for(reader.read(200), 15)
    finally:
        writer.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_request_gets_a_server_error(surface: Surface, data: st.DataObject) -> None:
    method, path, headers, body = data.draw(requests(surface))
    async with (
        aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as http,
        http.request(
            method,
            surface.url + path,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as response,
    ):
        await response.read()
        assert response.status < 500, (method, path, headers, body, response.status)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/telegram", "/ingest", "/r/x"]),
    head=st.just(b"") | st.binary(max_size=200),
    chunked=st.booleans(),
    body=st.binary(max_size=300) | st.sampled_from([b"5\r\nab", b"zz\r\n", b"0\r\n"]),
)
async def test_raw_bytes_get_no_server_error(
    surface: Surface, path: str, head: bytes, chunked: bool, body: bytes
) -> None:
    """Header lines and bodies that no client library would send, framing included."""
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
    secret = f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\r\n".encode()
    request = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n" + framing + secret + head
    answer = await send_raw(surface.port, request + b"\r\n\r\n" + body)
    status_line = answer.split(b"\r\n", 1)[0]
    assert not status_line.startswith(b"HTTP/1.1 5"), (request, body, answer[:200])
