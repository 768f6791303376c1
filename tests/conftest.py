"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.storage.engine import create_engine, session_factory
from bot.storage.migrate import upgrade

pytest_plugins = ["tests.exclusive"]

POSTGRES_ENV = "NEWSBOT_TEST_POSTGRES_URL"
# As the CLI does: PTB's forward-compatible durations (retry_after as a timedelta).
os.environ.setdefault("PTB_TIMEDELTA", "1")
REPO = Path(__file__).resolve().parents[1]


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _backend_params() -> list[object]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(
                postgres_url() is None,
                reason=f"PostgreSQL not configured: set {POSTGRES_ENV} "
                "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); .ci/run sets it",
            ),
        ),
    ]


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback only: any other host name fails at once, without a DNS query.

    Some inputs name real-looking sites (article pages of the example outlet); the bot's
    reaction to an unreachable site is what those tests check, so it is faked here, at the
    resolver, instead of being looked up.
    """
    real = socket.getaddrinfo

    def guarded(host: object, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if host is not None and name not in LOOPBACK_NAMES and not name.startswith("127."):
            raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback only, not {name}")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(params=_backend_params())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL: a temp SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    base = postgres_url()
    assert base is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}search_path={schema}"
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on a fresh database."""
    eng = create_engine(database_url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
