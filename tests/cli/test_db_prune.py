"""``newsbot db prune``: retention on demand, in a real process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import OutboxRow
from tests.crash.support import add_private_readers, now, publish, reader_ids

REPO = Path(__file__).resolve().parents[2]


def prune(database_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(NEWSBOT_DATABASE_URL=database_url, PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", "prune"],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def open_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


async def test_db_prune_deletes_old_settled_deliveries(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await add_private_readers(session, reader_ids(5), "georgia")
    _, old = await publish(sessions, "old-story")
    _, recent = await publish(sessions, "recent-story")
    async with sessions.begin() as session:
        for article_id, days in ((old, 12), (recent, 8)):
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.article_id == article_id)
                .values(state="sent", message_id=1, updated_at=now() - timedelta(days=days))
            )
    result = await asyncio.to_thread(
        prune, database_url, tmp_path, NEWSBOT_KEEP_DELIVERIES_DAYS="10"
    )
    assert result.returncode == 0, result.stderr
    assert "pruned: 5 deliveries deleted" in result.stdout
    assert await open_rows(sessions) == 5
