"""``newsbot run --role worker`` has no public listener: its /healthz and /metrics are on
the private one (its sender's counters live in that process, so that is where they are
scraped), which answers nothing else."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import run
from tests.crash.support import add_private_readers, publish, reader_ids
from tests.e2e.support import declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.revenue.support import free_port

READERS = 5
SENT = 'newsbot_deliveries_total{chat_kind="private",state="sent"}'


def sent_counter(exposition: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(SENT + " "):
            return float(line.split()[-1])
    return 0.0


async def test_a_worker_serves_its_delivery_counters_and_nothing_public(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    readers = reader_ids(READERS)
    async with sessions.begin() as session:
        await add_private_readers(session, readers, "georgia")
    await publish(sessions, "worker-metrics")
    web_port, metrics_port = free_port(), free_port()
    before = sent_counter(generate_latest().decode())  # counters are per process
    async with FakeBotAPI() as api:
        declare_channels(api)
        settings = make_settings(api, database_url, web_port=web_port, metrics_port=metrics_port)
        stop = asyncio.Event()
        task = asyncio.create_task(
            run(settings, make_catalog([]), dry_run=False, stop=stop, role="worker")
        )
        try:
            await api.wait_for(lambda: len(api.sent) >= READERS, within=15)
            private = f"http://127.0.0.1:{metrics_port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(50):  # the answers are recorded with the sender's next batch
                    metrics = await (await http.get(f"{private}/metrics")).text()
                    if sent_counter(metrics) >= before + READERS:
                        break
                    await asyncio.sleep(0.2)
                health = await http.get(f"{private}/healthz")
                report = await health.json()
                webhook = await http.post(f"{private}/telegram", data=b"{}")
                redirect = await http.get(f"{private}/r/anything", allow_redirects=False)
                try:
                    await http.get(f"http://127.0.0.1:{web_port}/healthz")
                    public_listening = True
                except aiohttp.ClientConnectionError:
                    public_listening = False
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
    assert health.status == 200
    assert report["role"] == "worker" and report["checks"]["database"]["ok"] is True
    assert set(report["checks"]["leadership"]["leads"]) == {"scheduler", "sender"}
    assert sent_counter(metrics) == before + READERS
    assert webhook.status == 404 and redirect.status == 404
    assert not public_listening
    assert not api.calls("getUpdates")  # updates are the web process's job
