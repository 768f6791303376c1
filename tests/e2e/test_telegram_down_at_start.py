"""Telegram unreachable (or failing) when the bot starts: it keeps polling feeds, fills the
outbox, retries with one log line per attempt, and posts once Telegram answers, without a
restart."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.storage.engine import create_engine, session_factory
from bot.storage.models import OutboxRow
from tests.e2e.support import (
    GEORGIA_CHANNEL,
    declare_channels,
    item,
    make_catalog,
    make_settings,
    running,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, wordpress_feed

pytestmark = pytest.mark.exclusive

FIRST = [item(201, "Tbilisi opens a new metro line", categories=["Georgia"], hours_ago=3)]
NEW = item(202, "Georgia's parliament passes the budget", categories=["Georgia"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def outbox_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)
    finally:
        await engine.dispose()


async def eventually(predicate: Callable[[], bool], within: float) -> None:
    """Poll ``predicate`` (the fake Bot API cannot wait for us while it is down)."""
    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.05)


async def healthz(url: str) -> tuple[int, dict[str, Any]]:
    """The detailed report of the private listener: (status, body)."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def attempts_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Telegram not reachable" in r.getMessage()]


@pytest.mark.slow
async def test_posts_go_out_once_telegram_comes_up(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api = FakeBotAPI(port=free_port())
    api.base_url = f"http://127.0.0.1:{api.port}"  # known before it listens
    declare_channels(api)
    async with FeedServer() as site:
        site.set_feed("/feed/", wordpress_feed(FIRST, site="https://caucasus-wire.example"))
        catalog = make_catalog([site.url("/feed/")], interval=10)
        metrics_port = free_port()
        settings = make_settings(api, database_url, metrics_port=metrics_port)
        health = f"http://127.0.0.1:{metrics_port}/healthz"
        try:
            async with running(settings, catalog):
                # Down: the first poll happens and the retries are logged, one line each.
                await eventually(lambda: len(attempts_logged(caplog)) >= 2, within=10)
                assert site.hits["/feed/"] >= 1
                site.set_feed("/feed/", wordpress_feed([NEW, *FIRST]))
                async with asyncio.timeout(16):  # the next poll fills the outbox
                    while True:
                        if await outbox_rows(database_url) > 0:
                            break
                        await asyncio.sleep(0.2)
                assert api.sent == []
                status, report = await healthz(health)
                assert status == 503 and report["checks"]["telegram"]["reachable"] is False
                assert report["checks"]["activity"]["last_good_poll"]["at"] is not None
                await api.start()  # Telegram is back
                await api.wait_for(lambda: bool(api.messages_to(GEORGIA_CHANNEL)), within=20)
                posts = api.messages_to(GEORGIA_CHANNEL)
                assert len(posts) == 1
                assert "parliament passes the budget" in posts[0].plain_text
                await api.wait_for(lambda: bool(api.calls("getUpdates")), within=5)
                async with asyncio.timeout(10):  # outcomes are recorded per flushed batch
                    while True:
                        status, report = await healthz(health)
                        if report["checks"]["activity"]["last_send"]["at"] is not None:
                            break
                        await asyncio.sleep(0.2)
                assert status == 200, report
                assert report["checks"]["telegram"]["reachable"] is True
                assert report["role"] == "all"
        finally:
            await api.stop()
    lines = attempts_logged(caplog)
    assert all("attempt" in line and "retrying in" in line for line in lines)
    assert not any(r.exc_info for r in caplog.records if r.name == "newsbot.startup")


async def test_5xx_at_start_is_retried_and_menus_are_published(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeBotAPI() as api:
        api.fail_next("getMe", 502, "Bad Gateway", times=2)
        api.fail_next("setMyCommands", 500, "Internal Server Error")
        settings = make_settings(api, database_url)
        async with running(settings, make_catalog([])):
            await api.wait_for(lambda: bool(api.calls("getUpdates")), within=15)
            assert api.commands, "menus were not published after the errors"
        assert len(attempts_logged(caplog)) == 3
        assert len(api.calls("getMe")) >= 3
