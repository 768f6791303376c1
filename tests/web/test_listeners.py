"""Two listeners: the public one (what a reverse proxy exposes) serves only ``/telegram``,
``/r/``, ``/ingest`` and a bare ``/healthz``; ``/metrics`` and the detailed ``/healthz`` are
on the private one, whose report is a registry of named checks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.storage.models import HealthProbeRow
from bot.web.health import HealthChecks, database_check
from bot.web.private import make_private_app
from bot.web.server import make_app
from tests.e2e.support import make_catalog, make_settings, running
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock
from tests.revenue.support import free_port


async def status_of(http: aiohttp.ClientSession, method: str, url: str) -> int:
    async with http.request(method, url, allow_redirects=False) as response:
        return response.status


async def test_metrics_are_not_on_the_public_listener(database_url: str) -> None:
    public, private = free_port(), free_port()
    async with FakeBotAPI() as api:
        settings = make_settings(
            api,
            database_url,
            web_port=public,
            metrics_port=private,
            ingest_secret="ingest-secret-0123456789",
            public_url="https://bot.example",
        )
        async with running(settings, make_catalog([])), aiohttp.ClientSession() as http:
            await api.wait_for(lambda: bool(api.commands), within=15)
            web, internal = f"http://127.0.0.1:{public}", f"http://127.0.0.1:{private}"
            assert await status_of(http, "GET", f"{web}/metrics") == 404
            async with http.get(f"{web}/healthz") as response:
                assert (response.status, await response.json()) == (200, {"ok": True})
            assert await status_of(http, "GET", f"{web}/r/not-a-token") == 404
            assert await status_of(http, "POST", f"{web}/ingest") == 401  # there, unsigned

            async with http.get(f"{internal}/metrics") as response:
                assert response.status == 200
                body = await response.text()
                assert "newsbot_deliveries_total" in body
                assert "newsbot_readers 0.0" in body  # the /stats figures, read on scrape
                assert 'newsbot_last_30_days{figure="stars"} 0.0' in body
            for _ in range(50):  # on PostgreSQL the leases are taken a moment after start
                async with http.get(f"{internal}/healthz") as response:
                    report = await response.json()
                    assert response.status == 200, report
                if all(report["checks"]["leadership"]["leads"].values()):
                    break
                await asyncio.sleep(0.2)
            for path, method in (("/ingest", "POST"), ("/r/x", "GET"), ("/telegram", "POST")):
                assert await status_of(http, method, internal + path) == 404
    assert report["ok"] is True and report["role"] == "all"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["leadership"]["leads"] == {"scheduler": True, "sender": True}


async def test_the_detailed_report_fails_when_the_database_takes_no_writes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    checks = HealthChecks("web")
    checks.add("database", database_check(sessions, FakeClock()))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with (
        TestClient(TestServer(make_private_app(sessions, checks))) as private,
        TestClient(TestServer(make_app(settings, sessions))) as public,
    ):
        assert (await private.get("/healthz")).status == 200
        async with sessions.begin() as session:  # reads still work, writes fail
            await session.run_sync(lambda s: HealthProbeRow.__table__.drop(s.connection()))
        response = await private.get("/healthz")
        report = await response.json()
        assert response.status == 503
        assert report["ok"] is False and report["checks"]["database"]["ok"] is False
        assert report["checks"]["database"]["error"]
        assert (await public.get("/healthz")).status == 200  # liveness only asks SELECT 1


async def test_checks_added_by_other_parts_are_reported_and_bounded(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    checks = HealthChecks("all", within=0.2)

    async def telegram() -> Mapping[str, object]:
        return {"ok": True, "last_poll": "2026-12-02T23:00:00"}

    async def stuck() -> Mapping[str, object]:
        await asyncio.sleep(5)
        return {"ok": True}

    async def broken() -> Mapping[str, object]:
        raise RuntimeError("no route to host")

    async def vague() -> Mapping[str, object]:
        return {"detail": "forgot to say ok"}

    for name, check in (("telegram", telegram), ("stuck", stuck), ("broken", broken)):
        checks.add(name, check)
    checks.add("vague", vague)
    async with TestClient(TestServer(make_private_app(sessions, checks))) as client:
        response = await client.get("/healthz")
        report = await response.json()
    assert response.status == 503
    results = report["checks"]
    assert results["telegram"]["ok"] is True and results["telegram"]["last_poll"]
    assert results["stuck"]["ok"] is False and results["stuck"]["error"] == "no answer within 0.2 s"
    assert results["broken"]["ok"] is False and "no route to host" in results["broken"]["error"]
    assert results["vague"]["ok"] is False
