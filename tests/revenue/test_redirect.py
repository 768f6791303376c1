"""``GET /r/<token>`` against a real aiohttp server and a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.links import sign
from bot.storage.models import ClickRow
from bot.web.redirect import (
    READERS_PER_ADDRESS,
    Redirects,
    TapMetrics,
    client_ip,
    is_automated,
)
from bot.web.server import make_app
from tests.fakes.clock import FakeClock

KEY = b"redirect-test-key"
METRICS = web.AppKey("test_metrics", CollectorRegistry)
ARTICLE = "https://caucasus-wire.example/103/"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 20, 10, 0))


@pytest.fixture
async def server(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> AsyncIterator[TestServer]:
    settings = Settings(_env_file=None, web_port=0)  # type: ignore[call-arg]
    registry = CollectorRegistry()
    redirects = Redirects(KEY, sessions, clock, TapMetrics(registry))
    app = make_app(settings, sessions, redirects=redirects)
    app[METRICS] = registry

    async with TestServer(app) as srv:
        yield srv


async def tap(
    srv: TestServer, token: str, ua: str = BROWSER, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        response = await http.get(
            srv.make_url(f"/r/{token}"),
            headers={"User-Agent": ua, **(headers or {})},
            allow_redirects=False,
        )
        response.release()
        return response


async def clicks(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ClickRow)) or 0)


async def test_valid_token_redirects_and_counts_with_edition(
    server: TestServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await tap(server, sign(KEY, "article", ARTICLE, "georgia+armenia-ru"))
    assert response.status == 302
    assert response.headers["Location"] == ARTICLE
    assert response.headers["Cache-Control"] == "no-store"
    async with sessions() as session:
        row = (await session.scalars(select(ClickRow))).one()
    assert (row.kind, row.url, row.language, row.regions) == (
        "article",
        ARTICLE,
        "ru",
        "georgia armenia",
    )


async def test_replayed_tap_counts_once_per_reader_and_day(
    server: TestServer, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    token = sign(KEY, "article", ARTICLE, "georgia-en")
    for _ in range(3):
        assert (await tap(server, token)).status == 302
    assert await clicks(sessions) == 1
    # Another reader (another User-Agent from the same address) counts.
    await tap(server, token, ua=BROWSER + " Android")
    assert await clicks(sessions) == 2
    # The same reader on another day counts again; another target too.
    clock.advance(days=1)
    await tap(server, token)
    await tap(server, sign(KEY, "donate", "https://caucasus-wire.example/support/", "all-en"))
    assert await clicks(sessions) == 4


@pytest.mark.parametrize(
    "ua",
    [
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1",
        "WhatsApp/2.23.20.0",
        "curl/8.5.0",
        "",
    ],
)
async def test_preview_bots_are_redirected_but_not_counted(
    server: TestServer, sessions: async_sessionmaker[AsyncSession], ua: str
) -> None:
    response = await tap(server, sign(KEY, "article", ARTICLE, "georgia-en"), ua=ua)
    assert response.status == 302
    assert await clicks(sessions) == 0


async def test_forged_and_altered_tokens_get_404_without_location(
    server: TestServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    genuine = sign(KEY, "article", ARTICLE, "georgia-en")
    forged = sign(b"not-the-key", "article", "https://evil.example/", "georgia-en")
    altered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    spliced = forged.split(".")[0] + "." + genuine.split(".")[1]
    for token in (forged, altered, spliced, "https:%2F%2Fevil.example", "x"):
        response = await tap(server, token)
        assert response.status == 404, token
        assert "Location" not in response.headers
    assert await clicks(sessions) == 0


async def test_database_failure_still_redirects(
    server: TestServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await session.run_sync(lambda s: ClickRow.__table__.drop(s.connection()))
    response = await tap(server, sign(KEY, "article", ARTICLE, "georgia-en"))
    assert response.status == 302


def test_automated_agents() -> None:
    assert is_automated("TelegramBot (like TwitterBot)")
    assert not is_automated(BROWSER)
    assert not is_automated("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126 Mobile")


async def test_forwarded_for_from_a_local_proxy_tells_readers_apart(
    server: TestServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = sign(KEY, "article", ARTICLE, "georgia-en")
    await tap(server, token, headers={"X-Forwarded-For": "203.0.113.7"})
    await tap(server, token, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
    await tap(server, token, headers={"X-Forwarded-For": "203.0.113.7"})
    assert await clicks(sessions) == 2


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


def forwarded(peer: str, header: str) -> web.Request:
    from aiohttp.test_utils import make_mocked_request

    return make_mocked_request(
        "GET", "/r/x", headers={"X-Forwarded-For": header}, transport=_Transport(peer)
    )


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("127.0.0.1", "203.0.113.8"),
        ("::ffff:127.0.0.1", "203.0.113.8"),
        ("10.0.0.2", "10.0.0.2"),  # private, but not a trusted proxy by default
        ("192.168.1.1", "192.168.1.1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_forwarded_for_is_read_only_from_trusted_proxies(peer: str, expected: str) -> None:
    assert client_ip(forwarded(peer, "1.2.3.4, 203.0.113.8")) == expected


def test_forwarded_for_walks_back_past_trusted_proxies_only() -> None:
    proxies = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
    # client-written junk, the client, then two of our proxies: the client is found.
    chain = "6.6.6.6, 203.0.113.9, 10.1.1.1"
    assert client_ip(forwarded("10.0.0.2", chain), proxies) == "203.0.113.9"
    assert client_ip(forwarded("10.0.0.2", "not-an-ip, 10.1.1.1"), proxies) == "10.1.1.1"
    assert client_ip(forwarded("10.0.0.2", ""), proxies) == "10.0.0.2"
    assert client_ip(forwarded("127.0.0.1", chain), ()) == "127.0.0.1"  # trust nobody


async def test_forwarded_for_from_an_untrusted_peer_does_not_make_readers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Our loopback test client is not a trusted proxy here: whatever it claims in
    X-Forwarded-For, it is one address, and one reader per User-Agent."""
    redirects = Redirects(KEY, sessions, clock, TapMetrics(CollectorRegistry()), trusted_proxies=[])
    settings = Settings(_env_file=None, web_port=0)  # type: ignore[call-arg]
    async with TestServer(make_app(settings, sessions, redirects=redirects)) as srv:
        token = sign(KEY, "article", ARTICLE, "georgia-en")
        for n in range(5):
            await tap(srv, token, headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert await clicks(sessions) == 1


async def test_one_address_counts_as_a_few_readers_however_its_user_agent_changes(
    server: TestServer, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    token = sign(KEY, "article", ARTICLE, "georgia-en")
    for n in range(20):
        assert (await tap(server, token, ua=f"{BROWSER} Build/{n}")).status == 302
    assert await clicks(sessions) == READERS_PER_ADDRESS
    assert taps(server, "article", "capped") == 20 - READERS_PER_ADDRESS
    # Other addresses (behind the local proxy) still count, and so does another target.
    for n in range(4):
        await tap(server, token, headers={"X-Forwarded-For": f"203.0.113.{n}"})
    await tap(server, sign(KEY, "donate", "https://caucasus-wire.example/support/", "all-en"))
    assert await clicks(sessions) == READERS_PER_ADDRESS + 5
    clock.advance(days=1)  # a new day, a new allowance
    await tap(server, token, ua=f"{BROWSER} Build/99")
    assert await clicks(sessions) == READERS_PER_ADDRESS + 6


async def test_concurrent_taps_from_one_address_respect_the_cap(
    server: TestServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = sign(KEY, "article", ARTICLE, "georgia-en")
    await asyncio.gather(*(tap(server, token, ua=f"{BROWSER} n{n}") for n in range(30)))
    assert await clicks(sessions) == READERS_PER_ADDRESS


def taps(srv: TestServer, kind: str, outcome: str) -> float:
    labels = {"kind": kind, "outcome": outcome}
    return srv.app[METRICS].get_sample_value("newsbot_link_taps_total", labels) or 0.0


async def test_taps_are_counted_in_metrics(server: TestServer) -> None:
    token = sign(KEY, "article", ARTICLE, "georgia-en")
    await tap(server, token)
    await tap(server, token)
    await tap(server, token, ua="TelegramBot (like TwitterBot)")
    await tap(server, "forged.token")
    assert taps(server, "article", "counted") == 1
    assert taps(server, "article", "repeat") == 1
    assert taps(server, "article", "automated") == 1
    assert taps(server, "unknown", "refused") == 1
