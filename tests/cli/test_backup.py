"""``newsbot db backup``: an online SQLite copy that restores to a working bot; the
pg_dump command for PostgreSQL, without the password."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from tests.cli.test_check import REPO, newsbot

EXAMPLE = {"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml")}
POSTED = "──── to "  # how the dry run prints each message


def articles(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])


def test_backup_while_a_writer_is_busy_then_restore(tmp_path: Path) -> None:
    live, backups, restored = tmp_path / "live", tmp_path / "backups", tmp_path / "restored"
    for directory in (live, backups, restored):
        directory.mkdir()
    first = newsbot("poll", "--once", "--dry-run", cwd=live, env=EXAMPLE)
    assert first.returncode == 0, first.stderr
    assert POSTED in first.stdout
    stored = articles(live / "newsbot.db")
    assert stored > 0
    # Another process is in the middle of a write: the backup neither waits for it nor
    # copies what it has not committed.
    writer = sqlite3.connect(live / "newsbot.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM articles")
    try:
        result = newsbot("db", "backup", str(backups / "newsbot.db"), cwd=live, env=EXAMPLE)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert articles(backups / "newsbot.db") == stored
    assert not list(backups.glob(".*partial"))

    # Restore as the README says: copy the file in place of the database, then start.
    shutil.copy(backups / "newsbot.db", restored / "newsbot.db")
    again = newsbot("poll", "--once", "--dry-run", cwd=restored, env=EXAMPLE)
    assert again.returncode == 0, again.stderr
    assert POSTED not in again.stdout  # every article is known: nothing is posted twice
    assert articles(restored / "newsbot.db") == stored


def test_backup_never_overwrites_and_needs_a_database(tmp_path: Path) -> None:
    missing = newsbot("db", "backup", str(tmp_path / "b.db"), cwd=tmp_path, env=EXAMPLE)
    assert missing.returncode == 2
    assert "NEWSBOT_DATABASE_URL: no database file at" in missing.stderr
    assert newsbot("db", "upgrade", cwd=tmp_path, env=EXAMPLE).returncode == 0
    (tmp_path / "taken.db").write_bytes(b"keep me")
    taken = newsbot("db", "backup", str(tmp_path / "taken.db"), cwd=tmp_path, env=EXAMPLE)
    assert taken.returncode == 2
    assert "exists; name a new file" in taken.stderr
    assert (tmp_path / "taken.db").read_bytes() == b"keep me"
    assert "Traceback" not in missing.stderr + taken.stderr


def test_postgres_gets_the_pg_dump_command_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://newsbot:s3cret-pw@db.internal:5433/news?search_path=bot"
    result = newsbot(
        "db",
        "backup",
        "/backups/newsbot.dump",
        cwd=tmp_path,
        env={**EXAMPLE, "NEWSBOT_DATABASE_URL": url},
    )
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert (
        "pg_dump --format=custom --file=/backups/newsbot.dump --host=db.internal --port=5433 "
        "--username=newsbot --schema=bot news"
    ) in result.stdout
    assert "pg_restore --clean --if-exists" in result.stdout
