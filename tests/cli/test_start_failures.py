"""Expected start failures of ``python -m bot run``: one line on stderr, the right exit code.

Each case runs the real process (CONTRACT.md "Exit codes"): what the operator has to fix
exits 2, a database that never answered exits 1, and neither prints a traceback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url
from tests.crash.support import CATALOG
from tests.fakes.botapi import FakeBotAPI

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456:right-token"


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot run`` with a feedless catalog, at WARNING so only problems print."""
    (tmp_path / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(
        NEWSBOT_BOT_TOKEN=TOKEN,
        NEWSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        NEWSBOT_TELEGRAM_API_URL="http://127.0.0.1:9",
        NEWSBOT_WEB_PORT="0",
        NEWSBOT_METRICS_PORT="0",
        NEWSBOT_LOG_LEVEL="WARNING",
        NEWSBOT_DB_WAIT="1",
        PYTHONPATH=str(REPO),
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_url_without_async_driver_says_what_to_write(tmp_path: Path) -> None:
    result = run_bot(tmp_path, NEWSBOT_DATABASE_URL="postgresql://postgres@127.0.0.1/test")
    line = one_line(result)
    assert result.returncode == 2
    assert "NEWSBOT_DATABASE_URL" in line and "postgresql+asyncpg://" in line


@pytest.mark.parametrize("setting", ["NEWSBOT_WEB_PORT", "NEWSBOT_METRICS_PORT"])
def test_a_port_in_use_names_the_setting(tmp_path: Path, busy_port: int, setting: str) -> None:
    result = run_bot(tmp_path, **{setting: str(busy_port)})
    line = one_line(result)
    assert result.returncode == 2
    assert setting in line and f"127.0.0.1:{busy_port}" in line


async def test_a_rejected_token_exits_2_without_showing_it(tmp_path: Path) -> None:
    async with FakeBotAPI(token="999:another-token") as api:
        result = await asyncio.to_thread(run_bot, tmp_path, NEWSBOT_TELEGRAM_API_URL=api.base_url)
        assert api.calls("getMe"), "the token was never tried"
    line = one_line(result)
    assert result.returncode == 2
    assert "NEWSBOT_BOT_TOKEN" in line and "rejected" in line
    assert "right-token" not in result.stderr


def test_a_sqlite_file_in_a_missing_directory_exits_2(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'bot.db'}"
    result = run_bot(tmp_path, NEWSBOT_DATABASE_URL=url, NEWSBOT_LOG_LEVEL="ERROR")
    line = one_line(result)
    assert result.returncode == 2
    assert "NEWSBOT_DATABASE_URL" in line and "directory" in line


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL not configured")
def test_a_missing_postgres_database_exits_2(tmp_path: Path) -> None:
    base = make_url(str(postgres_url()))
    url = base.set(database="newsbot_no_such_database").render_as_string(hide_password=False)
    result = run_bot(tmp_path, NEWSBOT_DATABASE_URL=url, NEWSBOT_LOG_LEVEL="ERROR")
    line = one_line(result)
    assert result.returncode == 2
    assert "newsbot_no_such_database" in line and "createdb" in line


def test_an_unreachable_database_is_retried_then_exits_1(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    result = run_bot(tmp_path, NEWSBOT_DATABASE_URL=url, NEWSBOT_DB_WAIT="2")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    *attempts, last = result.stderr.strip().splitlines()
    assert last.startswith("newsbot: error: database not reachable after 2 s"), last
    # One warning per attempt, with backoff (0.5 + 1 s fit in 2 s, then a last short wait).
    assert 2 <= len(attempts) <= 4, result.stderr
    assert all("database not reachable (attempt" in line for line in attempts)
