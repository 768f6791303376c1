"""The aiohttp side: health, metrics and the webhook (secret checked) in a running bot."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import run
from bot.config import Settings
from bot.storage.engine import create_engine, session_factory
from bot.web.server import make_app
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_healthz_answers_when_the_database_does(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with TestClient(TestServer(make_app(settings, sessions))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"ok": True}  # bare: details are private
        metrics = await client.get("/metrics")
        assert metrics.status == 404  # on the private listener only


async def test_healthz_fails_when_the_database_is_gone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    try:
        async with TestClient(TestServer(make_app(settings, session_factory(engine)))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
    finally:
        await engine.dispose()


async def test_webhook_mode_refuses_calls_without_the_secret(tmp_path: Path) -> None:
    port = free_port()
    async with FakeBotAPI() as api:
        settings = make_settings(
            api,
            f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            web_port=port,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret="s3cret-token",
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, make_catalog([]), dry_run=False, stop=stop))
        try:
            await api.wait_for(lambda: api.webhook is not None, within=10)
            assert api.webhook is not None and api.webhook["secret_token"] == "s3cret-token"
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "text": "/start",
                    "chat": {"id": 77, "type": "private"},
                    "from": {"id": 77, "is_bot": False, "first_name": "R"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            url = f"http://127.0.0.1:{port}/telegram"
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json=update) as response:
                    assert response.status == 403
                bad = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
                async with http.post(url, json=update, headers=bad) as response:
                    assert response.status == 403
            assert api.messages_to(77) == []
            api.push_message(78, 78, "/start")
            assert await api.deliver_webhook() == [200]
            await api.wait_for(lambda: bool(api.messages_to(78)), within=10)
            assert "Caucasus Wire" in api.messages_to(78)[0].plain_text
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
