"""Soak: the whole bot (``python -m bot run``) for a bounded time under random faults.

Run from the repository root::

    .venv/bin/python bench/soak.py                    # 10 minutes, SQLite
    .venv/bin/python bench/soak.py --db postgres      # through a proxy that freezes, drops
    .venv/bin/python bench/soak.py --seconds 60 --subscribers 300 --feeds 5

Everything runs on loopback: a fake Bot API (``tests/fakes/botapi.py``) that answers 429,
500 and late (timeouts) at random, a feed server whose feeds publish new items, fail and
hang at random, on PostgreSQL a TCP proxy in front of the database that, at random times
(every 4-12 s, the two kinds in turn), either freezes for 1-4 s (stops forwarding, every
socket left open) or drops (resets every live connection on both sides and refuses new
ones for 0.5-3 s), and a SIGKILL of the bot every ``--kill-every`` seconds (then a
restart). At the end the bot is stopped with SIGTERM and the harness prints:

- duplicates: messages a chat received twice for one article (must be 0);
- losses: deliveries whose fate is unknown, against the in-flight bound (one burst of
  ``rate / 2`` rows per kill, and per injected timeout, whose answers never come);
- the bot's RSS over time (sampled every 5 s, per process lifetime);
- unhandled exceptions: tracebacks in the bot's logs (must be 0).

It exits 0 when every bound holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.storage.engine import create_engine, session_factory  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import OutboxRow  # noqa: E402
from tests.crash.support import add_private_readers, bot_environment, reader_ids  # noqa: E402
from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feedserver import FeedServer, wordpress_feed  # noqa: E402
from tests.fakes.tcpproxy import SilentProxy  # noqa: E402

SITE = "https://caucasus-wire.example"
RATE = 30.0
POSTGRES = os.environ.get(
    "NEWSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/test"
)


@dataclass
class Soak:
    seconds: float
    feeds: int
    subscribers: int
    kill_every: float
    db: str
    seed: int
    workdir: Path
    kills: int = 0
    freezes: int = 0  # database proxy silent, sockets open
    drops: int = 0  # database proxy reset every connection and refused new ones
    timeouts: int = 0  # answers held back past the client's wait: unknown by design
    rss: list[tuple[float, int, int]] = field(default_factory=list)  # (t, life, kB)
    items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_post: int = 1000


def catalog(feed_urls: list[str]) -> str:
    feeds = "\n".join(
        f'[[feeds]]\nurl = "{url}"\nlanguage = "en"\ninterval = 10\n' for url in feed_urls
    )
    return f"""
[outlet]
name = "Caucasus Wire"
site = "{SITE}"
default_language = "en"
languages = ["en"]
unmatched = "all"

[[regions]]
code = "georgia"
name = "Georgia"
keywords = ["georgia", "tbilisi"]
timezone = "Asia/Tbilisi"

{feeds}"""


def publish(soak: Soak, site: FeedServer, index: int, rng: random.Random) -> None:
    """A new item in feed ``index`` (newest first, the ten latest kept)."""
    soak.next_post += 1
    item = {
        "post_id": soak.next_post,
        "title": f"Tbilisi story {soak.next_post}",
        "link": f"{SITE}/{soak.next_post}/",
        "description": f"<p>Tbilisi story {soak.next_post}. It continues.</p>",
        "categories": ["Georgia"],
        "pubDate": datetime.now(UTC) - timedelta(minutes=rng.randint(0, 30)),
    }
    soak.items[index] = [item, *soak.items.get(index, [])][:10]
    site.set_feed(f"/feed/{index}/", wordpress_feed(soak.items[index], site=SITE))


async def database_faults(
    soak: Soak, proxy: SilentProxy, rng: random.Random, stop: asyncio.Event
) -> None:
    """At random times, the database's network fails: frozen (silence, sockets open) or
    dropped (connections reset, new ones refused for a while), the two kinds in turn
    from a random first, so even a minute sees both."""
    drop = rng.random() < 0.5
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(4.0, 12.0))
        if stop.is_set():
            return
        if drop:
            soak.drops += 1
            proxy.drop(refuse_for=rng.uniform(0.5, 3.0))
        else:
            soak.freezes += 1
            proxy.freeze()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(1.0, 4.0))
            proxy.thaw()
        drop = not drop


async def faults(
    soak: Soak,
    api: FakeBotAPI,
    site: FeedServer,
    rng: random.Random,
    stop: asyncio.Event,
) -> None:
    """Every second or so, one random fault (or a new item)."""
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        roll = rng.random()
        index = rng.randrange(soak.feeds)
        if roll < 0.35:
            publish(soak, site, index, rng)
        elif roll < 0.45:
            api.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
        elif roll < 0.55:
            api.fail_next("sendMessage", 500, "Internal Server Error")
        elif roll < 0.62:
            soak.timeouts += 1
            api.delay("sendMessage", 12.0)  # longer than the client waits: unknown
            await asyncio.sleep(0.3)
            api.delay("sendMessage", 0)
        elif roll < 0.72:
            site.set_feed(f"/feed/{index}/", b"oops", status=500)
        elif roll < 0.78:
            site.set_hang(f"/feed/{index}/")
        elif soak.items.get(index):
            site.set_feed(f"/feed/{index}/", wordpress_feed(soak.items[index], site=SITE))


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+)", status)
    return int(match.group(1)) if match else 0


async def run_bot(soak: Soak, env: dict[str, str], stop: asyncio.Event, started: float) -> None:
    """The bot process, SIGKILLed every ``kill_every`` seconds and started again."""
    life = 0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        log = (soak.workdir / f"bot-{life}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--catalog",
            str(soak.workdir / "catalog.toml"),
            "run",
            cwd=soak.workdir,
            env=env,
            stdout=log,
            stderr=log,
        )
        log.close()
        until = loop.time() + soak.kill_every
        while not stop.is_set() and loop.time() < until and process.returncode is None:
            soak.rss.append((round(loop.time() - started), life, rss_kb(process.pid)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
        if stop.is_set():
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)
            return
        process.kill()
        await process.wait()
        soak.kills += 1
        life += 1


def last_errors(workdir: Path) -> set[str]:
    """The log line before each traceback and the exception it ends with."""
    found: set[str] = set()
    for path in workdir.glob("bot-*.log"):
        lines = path.read_text(errors="replace").splitlines()
        for at, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = next(
                    (i for i in range(at + 1, len(lines)) if not lines[i].startswith(" ")), at
                )
                found.add(f"{lines[at - 1][24:140] if at else ''} -> {lines[end][:160]}")
    return found


def report(soak: Soak, api: FakeBotAPI, unknown: int, states: dict[str, int]) -> bool:
    per_chat_article = Counter(
        (
            m.chat_id,
            m.reply_markup["inline_keyboard"][0][0].get("url") if m.reply_markup else m.text,
        )
        for m in api.sent
        if m.method == "sendMessage"
    )
    duplicates = sum(count - 1 for count in per_chat_article.values() if count > 1)
    bound = (soak.kills + soak.timeouts) * int(RATE / 2)
    tracebacks = sum(
        path.read_text(errors="replace").count("Traceback")
        for path in soak.workdir.glob("bot-*.log")
    )
    print(
        f"soak: {soak.seconds:g} s, {soak.feeds} feeds, {soak.subscribers} subscribers, "
        f"{soak.db}, seed {soak.seed}, {soak.kills} SIGKILLs"
    )
    if soak.db == "postgres":
        print(f"database proxy: {soak.freezes} freezes, {soak.drops} drops")
    print(
        f"messages accepted by the Bot API: {len(api.sent)}; outbox: {dict(sorted(states.items()))}"
    )
    print(f"duplicates: {duplicates} (must be 0)")
    print(
        f"losses (unknown or left in flight): {unknown} "
        f"(bound: {bound}, one burst of {int(RATE / 2)} "
        f"per kill or timed-out answer; {soak.kills} kills, {soak.timeouts} timeouts)"
    )
    lives: dict[int, list[int]] = {}
    for _, life, kb in soak.rss:
        if kb:
            lives.setdefault(life, []).append(kb)
    for life, samples in lives.items():
        print(
            f"RSS, process {life}: first {samples[0] // 1024} MiB, "
            f"max {max(samples) // 1024} MiB, last {samples[-1] // 1024} MiB"
        )
    print(f"unhandled exceptions (tracebacks in the logs): {tracebacks} (must be 0)")
    for line in sorted(last_errors(soak.workdir)):
        print(f"  {line}")
    return duplicates == 0 and unknown <= bound and tracebacks == 0


async def soak_once(soak: Soak) -> bool:
    rng = random.Random(soak.seed)
    proxy: SilentProxy | None = None
    schema = None
    if soak.db == "postgres":
        base = make_url(POSTGRES)
        schema = f"soak_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        proxy = SilentProxy(base.host or "127.0.0.1", base.port or 5432)
        await proxy.__aenter__()
        direct = f"{POSTGRES}?search_path={schema}"
        bot_url = base.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        bot_url = f"{bot_url}?search_path={schema}"
    else:
        direct = bot_url = f"sqlite+aiosqlite:///{soak.workdir / 'soak.db'}"
    engine = create_engine(direct)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await add_private_readers(session, reader_ids(soak.subscribers), "georgia")
        async with FakeBotAPI(global_rate=RATE) as api, FeedServer() as site:
            for index in range(soak.feeds):
                publish(soak, site, index, rng)
            urls = [site.url(f"/feed/{index}/") for index in range(soak.feeds)]
            (soak.workdir / "catalog.toml").write_text(catalog(urls), encoding="utf-8")
            env = bot_environment(api, bot_url, RATE)
            stop = asyncio.Event()
            started = asyncio.get_running_loop().time()
            bot = asyncio.create_task(run_bot(soak, env, stop, started))
            chaos = [asyncio.create_task(faults(soak, api, site, rng, stop))]
            if proxy is not None:
                db_rng = random.Random(soak.seed + 1)  # its own stream: the same faults
                chaos.append(asyncio.create_task(database_faults(soak, proxy, db_rng, stop)))
            await asyncio.sleep(soak.seconds)
            stop.set()
            if proxy is not None:
                proxy.thaw()
            await asyncio.gather(bot, *chaos)
            async with sessions() as session:
                rows = await session.execute(
                    select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
                )
                states = {state: int(count) for state, count in rows}
            # A row left in flight is unknown once the bot starts again: a loss too.
            lost = states.get("unknown", 0) + states.get("inflight", 0)
            return report(soak, api, lost, states)
    finally:
        await engine.dispose()
        if proxy is not None:
            await proxy.__aexit__(None, None, None)
        if schema is not None:
            admin = create_engine(POSTGRES)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--kill-every", type=float, default=120.0)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--logs", type=Path, help="copy the bot's logs into this directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as workdir:
        soak = Soak(
            args.seconds,
            args.feeds,
            args.subscribers,
            args.kill_every,
            args.db,
            args.seed,
            Path(workdir),
        )
        ok = asyncio.run(soak_once(soak))
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
            for path in soak.workdir.glob("bot-*.log"):
                shutil.copy(path, args.logs / path.name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
