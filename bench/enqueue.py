"""Writing every private delivery of one article: the fan-out of a million readers.

Run from the repository root::

    .venv/bin/python bench/enqueue.py                         # SQLite and PostgreSQL, 1M
    .venv/bin/python bench/enqueue.py --db postgres --subscribers 100000 --runs 3

For each database it creates N private subscribers of one region (set-based, as
``bench/fanout.py`` does), stores one article of that region marked for fan-out, as the
ingest transaction leaves it, and times the production runner
(:class:`scheduler.ingest.fanout.FanOut`) writing every private row at once
(:meth:`~scheduler.ingest.fanout.FanOut.drain`: chunk after chunk, each committed with
the cursor, no window ahead of the sender). With ``--runs`` above 1 the same readers get
a new article each run (the previous rows deleted and, on PostgreSQL, vacuumed first).

Targets (issue 16): 1M rows <= 10 s on PostgreSQL, <= 5 s on SQLite. The last line is a
JSON object: ``enqueue_1m_pg_s`` and ``enqueue_1m_sqlite_s`` (the median run, scaled to
a million when ``--subscribers`` is smaller), with the load average when it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchdb import drop_schema, fresh_database, metro_article  # noqa: E402
from fanout import DEFAULT_POSTGRES, create_subscribers  # noqa: E402
from sqlalchemy import delete, func, select, text, update  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.storage.articles import insert_article  # noqa: E402
from bot.storage.engine import create_engine, session_factory  # noqa: E402
from bot.storage.models import ArticleRow, OutboxRow  # noqa: E402
from scheduler.ingest.fanout import FanOut  # noqa: E402

TARGET_S = {"postgres": 10.0, "sqlite": 5.0}
KEY = {"postgres": "enqueue_1m_pg_s", "sqlite": "enqueue_1m_sqlite_s"}


async def fanning_article(sessions: object, run: int) -> int:
    """An article of the readers' region, stored as the ingest transaction leaves it."""
    clock = SystemClock()
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        article_id = await insert_article(
            session, metro_article(f"bench-enqueue-{run}"), clock.now()
        )
        await session.execute(
            update(ArticleRow).where(ArticleRow.id == article_id).values(fanout_after=0)
        )
    return int(article_id)


async def clear(engine: object, sessions: object) -> None:
    """The last run's rows deleted and, on PostgreSQL, vacuumed (as autovacuum would)."""
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        await session.execute(delete(OutboxRow))
    if engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        async with engine.connect() as conn:  # type: ignore[attr-defined]
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("SET statement_timeout = 0"))
            await autocommit.execute(text("VACUUM ANALYZE outbox, chats, chat_regions"))


async def one_database(kind: str, subscribers: int, runs: int, postgres_url: str) -> list[float]:
    """Seconds to write every private row, per run."""
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = await fresh_database(kind, postgres_url, Path(tmp))
        engine = create_engine(url)
        try:
            await create_subscribers(url, subscribers)
            sessions = session_factory(engine)

            @contextlib.asynccontextmanager
            async def write() -> AsyncIterator[AsyncSession]:
                async with sessions.begin() as session:
                    yield session

            seconds = []
            for run in range(runs):
                await clear(engine, sessions)
                article_id = await fanning_article(sessions, run)
                runner = FanOut(
                    write, SystemClock(), unmatched_to_all=True, on_enqueued=lambda: None
                )
                started = time.perf_counter()
                await runner.drain()
                seconds.append(time.perf_counter() - started)
                async with sessions() as session:
                    rows = await session.scalar(
                        select(func.count())
                        .select_from(OutboxRow)
                        .where(OutboxRow.article_id == article_id)
                    )
                assert rows == subscribers, (rows, subscribers)
                print(
                    f"  {kind} run {run + 1}: {rows} rows in {seconds[-1]:.2f} s"
                    f"  (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            return seconds
        finally:
            await engine.dispose()
            if schema:
                await drop_schema(postgres_url, schema)


async def orchestrate(args: argparse.Namespace) -> int:
    kinds = [args.db] if args.db else ["sqlite", "postgres"]
    figures: dict[str, float | int] = {"subscribers": args.subscribers}
    for kind in kinds:
        seconds = await one_database(kind, args.subscribers, args.runs, args.postgres_url)
        per_million = statistics.median(seconds) * 1_000_000 / args.subscribers
        ok = per_million <= TARGET_S[kind]
        print(
            f"{kind}: every private row of one article for {args.subscribers} readers:"
            f" min {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s;"
            f" per million {per_million:.2f} s"
            f"   [{'ok' if ok else 'MISSED'}: <= {TARGET_S[kind]:.0f} s for 1M]",
            flush=True,
        )
        figures[KEY[kind]] = round(per_million, 2)
    figures["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres"))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NEWSBOT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES,
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(orchestrate(args))


if __name__ == "__main__":
    raise SystemExit(main())
