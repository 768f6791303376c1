"""``newsbot db backup PATH``: a consistent copy of the database while the bot runs.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page
by page while other connections keep reading and writing; the copy is a snapshot of
committed data, checked with ``PRAGMA integrity_check``, written beside the target
and renamed into place, so a half-written backup never has the final name.

PostgreSQL: ``pg_dump`` does the same better than this program could; the command for
this database is printed (never the password: it comes from ``~/.pgpass`` or
``PGPASSWORD``), with the matching ``pg_restore``.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import ConfigError

PAGES_PER_STEP = 1024  # pages copied between pauses, so writers are never held up long


@dataclass(frozen=True)
class SqliteBackup:
    source: Path
    target: Path
    size: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise ConfigError(["NEWSBOT_DATABASE_URL: an in-memory database cannot be backed up"])
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> SqliteBackup:
    """Copy ``source`` to ``target`` online; refuse to overwrite anything."""
    if not source.is_file():
        raise ConfigError([f"NEWSBOT_DATABASE_URL: no database file at {str(source)!r}"])
    if target.exists():
        raise ConfigError([f"db backup: {str(target)!r} exists; name a new file"])
    if not target.parent.is_dir():
        raise ConfigError([f"db backup: directory {str(target.parent)!r} does not exist"])
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source)
    copy = sqlite3.connect(partial)
    try:
        reader.backup(copy, pages=PAGES_PER_STEP)
        verdict = copy.execute("PRAGMA integrity_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise RuntimeError(f"the copy failed its integrity check: {verdict}")
    finally:
        copy.close()
        reader.close()
    os.replace(partial, target)
    return SqliteBackup(source, target, target.stat().st_size)


def pg_dump_command(url: str, target: Path) -> list[str]:
    """``pg_dump`` arguments for this database (its schema only, when the URL names one)."""
    parsed = make_url(url)
    command = ["pg_dump", "--format=custom", f"--file={target}"]
    if parsed.host:
        command.append(f"--host={parsed.host}")
    if parsed.port:
        command.append(f"--port={parsed.port}")
    if parsed.username:
        command.append(f"--username={parsed.username}")
    schema = parsed.query.get("search_path")
    if isinstance(schema, str) and schema:
        command.append(f"--schema={schema}")
    command.append(parsed.database or "postgres")
    return command


def postgres_instructions(url: str, target: Path) -> str:
    """What to run for a PostgreSQL backup and its restore, password left out."""
    dump = pg_dump_command(url, target)
    restore = ["pg_restore", "--clean", "--if-exists", *dump[3:-1], f"--dbname={dump[-1]}"]
    return "\n".join(
        [
            "# PostgreSQL: back up with pg_dump (the password comes from ~/.pgpass or PGPASSWORD):",
            shlex.join(dump),
            "# restore (with the bot stopped):",
            shlex.join([*restore, str(target)]),
        ]
    )
