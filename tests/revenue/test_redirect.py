"""``GET /r/<token>`` against a real aiohttp server and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

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
from bot.web.redirect import Redirects, TapMetrics, client_ip, is_automated
from bot.web.server import make_app

KEY = b"redirect-test-key"
METRICS = web.AppKey("test_metrics", CollectorRegistry)
ARTICLE = "https://caucasus-wire.example/103/"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"


class FakeClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 20, 10, 0)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


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
    clock.at += timedelta(days=1)
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


@pytest.mark.parametrize(
    ("peer", "expected"),
    [("127.0.0.1", "203.0.113.8"), ("10.0.0.2", "203.0.113.8"), ("8.8.8.8", "8.8.8.8")],
)
def test_forwarded_for_is_trusted_only_from_a_local_proxy(peer: str, expected: str) -> None:
    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request(
        "GET",
        "/r/x",
        headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.8"},
        transport=_Transport(peer),
    )
    assert client_ip(request) == expected


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
