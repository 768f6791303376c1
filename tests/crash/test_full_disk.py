"""A full disk loses no update: SQLite answers SQLITE_FULL, readers are told to try again
(once each, in their language), the editors hear once, and every ``/start`` is answered
once space is back.

The disk is filled for real as far as SQLite can tell: ``PRAGMA max_page_count``, set on
every connection the bot checks out, caps the file at its current size, so any write that
needs a new page fails with "database or disk is full".
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from tests.e2e.support import make_catalog, make_settings, running
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.exclusive

READERS = [840_000_001 + n for n in range(60)]
EDITORS = -1002000000001
RUSSIAN = set(READERS[::2])  # every other reader's Telegram is in Russian
UNAVAILABLE = {"en": "temporarily unavailable", "ru": "временно недоступен"}
PLENTY = 1_073_741_823  # SQLite's default page limit


class Disk:
    """The page limit applied to each SQLite connection when the pool hands it out."""

    def __init__(self) -> None:
        self.pages = PLENTY

    def on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if "sqlite" not in type(dbapi_connection).__module__:
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={self.pages}")  # never below the file's size
        cursor.close()


@pytest.fixture
def disk() -> Iterator[Disk]:
    state = Disk()
    event.listen(Pool, "checkout", state.on_checkout)
    try:
        yield state
    finally:
        event.remove(Pool, "checkout", state.on_checkout)


def texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [m.plain_text for m in api.messages_to(chat)]


def is_apology(text: str) -> bool:
    return any(words in text for words in UNAVAILABLE.values())


def language(reader: int) -> str:
    return "ru" if reader in RUSSIAN else "en"


@pytest.mark.slow
async def test_no_start_is_lost_to_a_full_disk(
    tmp_path: Any, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'full.db'}"
    async with FakeBotAPI() as api:
        api.set_chat(EDITORS, "supergroup", title="Editors")
        settings = make_settings(api, database_url, editors_chat_id=EDITORS)
        async with running(settings, make_catalog([])):
            await api.wait_for(lambda: bool(api.calls("getUpdates")), within=15)
            disk.pages = 1  # full: the file may not grow by one page
            for reader in READERS:
                api.push_message(reader, reader, "/start", language_code=language(reader))
            # Readers hear the bot is unavailable; Telegram keeps what was not stored.
            await api.wait_for(
                lambda: any(is_apology(t) for r in READERS for t in texts(api, r)), within=20
            )
            await api.wait_for(lambda: bool(api.messages_to(EDITORS)), within=20)
            assert api.pending_updates > 0, "updates were acknowledged without being stored"
            await asyncio.sleep(2.0)  # retries go on meanwhile, without repeating apologies
            disk.pages = PLENTY  # space is back
            await api.wait_for(
                lambda: all(any(not is_apology(t) for t in texts(api, r)) for r in READERS),
                within=60,
            )
            await asyncio.sleep(1.0)
            assert api.pending_updates == 0
    apologized = {"en": 0, "ru": 0}
    for reader in READERS:
        answers = texts(api, reader)
        welcomes = [t for t in answers if not is_apology(t)]
        apologies = [t for t in answers if is_apology(t)]
        assert len(welcomes) == 1, answers
        assert len(apologies) <= 1, answers
        # In the reader's own language.
        assert all(UNAVAILABLE[language(reader)] in t for t in apologies), answers
        apologized[language(reader)] += len(apologies)
    assert apologized["en"] > 0 and apologized["ru"] > 0, apologized
    assert any("database or disk is full" in r.getMessage() for r in caplog.records)
    alerts = [t for t in texts(api, EDITORS) if "Database unavailable" in t]
    assert len(alerts) == 1, texts(api, EDITORS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
async def test_the_webhook_is_answered_only_once_the_update_is_stored(
    tmp_path: Any, disk: Disk
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"
    port = free_port()
    readers = READERS[:30]
    async with FakeBotAPI() as api:
        settings = make_settings(
            api,
            database_url,
            web_port=port,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret="webhook-secret-of-this-test",
        )
        async with running(settings, make_catalog([])):
            await api.wait_for(lambda: api.webhook is not None, within=15)
            disk.pages = 1
            for reader in readers:
                api.push_message(reader, reader, "/start")
            statuses = await api.deliver_webhook()  # stops at the first refusal
            assert statuses[-1] == 503 and api.pending_updates > 0, statuses
            disk.pages = PLENTY
            assert set(await api.deliver_webhook()) == {200}
            await api.wait_for(
                lambda: all(any(not is_apology(t) for t in texts(api, r)) for r in readers),
                within=60,
            )
            await asyncio.sleep(1.0)
    for reader in readers:
        welcomes = [t for t in texts(api, reader) if not is_apology(t)]
        assert len(welcomes) == 1, texts(api, reader)
