"""What several benchmarks share: a fresh database for each run, dropped afterwards, and
the article they enqueue.

A benchmark script puts the repository on ``sys.path`` before importing this module (it
is a folder of scripts, not a package).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.articles import NewArticle


async def fresh_database(kind: str, postgres_url: str, workdir: Path) -> tuple[str, str | None]:
    """A new empty database URL (and the PostgreSQL schema to drop afterwards): a new
    SQLite file in ``workdir``, or a new schema on ``postgres_url``'s server."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    await _admin(postgres_url, f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{sep}search_path={schema}", schema


async def drop_schema(postgres_url: str, schema: str) -> None:
    """Drop a schema :func:`fresh_database` made, with everything in it."""
    await _admin(postgres_url, f'DROP SCHEMA "{schema}" CASCADE')


async def _admin(postgres_url: str, statement: str) -> None:
    admin = create_async_engine(postgres_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


def metro_article(key: str) -> NewArticle:
    """The article the delivery benchmarks enqueue (Georgia, English), under ``key``."""
    url = f"https://caucasus-wire.example/{key}/"
    return NewArticle(
        key=key,
        url=url,
        canonical_url=url,
        title="Tbilisi metro extends to the airport",
        summary="The new line opens next spring. It links the airport to the centre.",
        language="en",
        regions=("georgia",),
        feed_id=None,
        published_at=None,
        announced=True,
    )
