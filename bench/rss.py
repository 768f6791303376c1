"""The whole bot's memory with N subscribers, while it fans an article out to all of them.

Run from the repository root::

    .venv/bin/python bench/rss.py --subscribers 10000
    .venv/bin/python bench/rss.py --subscribers 1000000 --db postgres

``--subscribers`` private readers of one region are put in the database (set-based, as an
import would), then the bot itself runs (``python -m bot run``: web server, scheduler,
ingestor, fan-out runner, sender, everything ``newsbot run`` starts) against a local feed
and the fake Bot API. After its first poll, the feed publishes an article of that region, so
the bot posts it and writes and sends its private fan-out to every reader: whatever state
it keeps per subscriber is in its memory then. The bot's resident memory is read from
``/proc`` every half second; its peak (``VmHWM``) is printed, with the messages the Bot API
accepted (the fan-out must be running for the figure to mean anything).

``bench/run.py`` compares 1 000 000 subscribers with 10 000: the target is a peak within
10 % (memory must not grow with the number of subscribers). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchdb import drop_schema, fresh_database  # noqa: E402
from fanout import create_subscribers  # noqa: E402

from tests.crash.support import bot_environment  # noqa: E402
from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.feedserver import FeedServer, wordpress_feed  # noqa: E402

SITE = "https://caucasus-wire.example"
DEFAULT_POSTGRES = os.environ.get(
    "NEWSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def catalog(feed_url: str) -> str:
    return f"""
[outlet]
name = "Caucasus Wire"
site = "{SITE}"
default_language = "en"
languages = ["en"]

[[regions]]
code = "georgia"
name = "Georgia"
keywords = ["georgia", "tbilisi"]

[[feeds]]
url = "{feed_url}"
language = "en"
interval = 10
"""


def item(post_id: int) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "title": f"Tbilisi metro story {post_id}",
        "link": f"{SITE}/{post_id}/",
        "description": f"<p>Tbilisi story {post_id}. The new line opens in spring.</p>",
        "categories": ["Georgia"],
        "pubDate": datetime.now(UTC) - timedelta(minutes=1),
    }


def memory_kb(pid: int) -> dict[str, int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: int(kb) for key, kb in re.findall(r"(VmRSS|VmHWM):\s+(\d+)", status)}


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    url, schema = await fresh_database(args.db, args.postgres_url, workdir)
    try:
        await create_subscribers(url, args.subscribers)
        async with FakeBotAPI(global_rate=args.rate) as api, FeedServer() as site:
            site.set_feed("/feed/", wordpress_feed([item(1)], site=SITE))
            (workdir / "catalog.toml").write_text(catalog(site.url("/feed/")), encoding="utf-8")
            env = bot_environment(api, url, args.rate)
            env["NEWSBOT_LOG_LEVEL"] = "WARNING"
            return await watch(args, workdir, env, api, site)
    finally:
        if schema is not None:
            await drop_schema(args.postgres_url, schema)


async def watch(
    args: argparse.Namespace, workdir: Path, env: dict[str, str], api: Any, site: Any
) -> dict[str, Any]:
    log = (workdir / "bot.log").open("wb")
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--catalog",
        str(workdir / "catalog.toml"),
        "run",
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=log,
    )
    log.close()
    samples: list[int] = []
    peak = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    published = False
    try:
        while loop.time() - started < args.seconds and bot.returncode is None:
            if not published and site.hits["/feed/"] >= 1:  # after the first poll
                site.set_feed("/feed/", wordpress_feed([item(2), item(1)], site=SITE))
                published = True
            memory = memory_kb(bot.pid)
            samples.append(memory.get("VmRSS", 0))
            peak = max(peak, memory.get("VmHWM", 0))
            await asyncio.sleep(0.5)
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(bot.wait(), 60)
            except TimeoutError:
                bot.kill()
                await bot.wait()
    sends = [m for m in api.sent if m.method == "sendMessage"]
    return {
        "db": args.db,
        "subscribers": args.subscribers,
        "seconds": args.seconds,
        "peak_rss_mb": peak / 1024,
        "last_rss_mb": (samples[-1] if samples else 0) / 1024,
        "messages": len(sends),
        "exit": bot.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--seconds", type=float, default=40.0, help="how long the bot runs")
    parser.add_argument("--rate", type=float, default=30.0, help="broadcast rate, messages/s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"newsbot-rss-{uuid.uuid4().hex[:6]}-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    print(
        f"whole bot, {result['subscribers']} subscribers ({result['db']}), "
        f"{result['seconds']:g} s with a fan-out to all of them: peak RSS "
        f"{result['peak_rss_mb']:.1f} MB (last {result['last_rss_mb']:.1f} MB); "
        f"{result['messages']} messages accepted by the Bot API; load {os.getloadavg()[0]:.1f}"
    )
    if result["messages"] == 0:
        print("no message was sent: the fan-out did not run, so the figure means nothing")
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
