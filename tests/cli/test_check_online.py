"""``newsbot check --online`` against the fake Bot API and a local feed server (real
subprocesses: the command line as an operator runs it)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, rss_feed

GOOD_CHANNEL, LOCKED_CHANNEL, EDITORS = -1001000000001, -1001000000002, -1001000000003


@dataclass
class World:
    api: FakeBotAPI
    feeds: FeedServer
    root: Path


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeBotAPI() as api, FeedServer() as feeds:
        bot_id = int(api.bot_user["id"])
        api.set_chat(GOOD_CHANNEL, "channel", title="Georgia news", username="cw_georgia")
        api.set_member(GOOD_CHANNEL, bot_id, "administrator", can_post_messages=True)
        api.set_chat(EDITORS, "supergroup", title="Editors")
        api.set_member(EDITORS, bot_id, "member")
        published = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
        items = [{"title": "One", "link": "https://news.example/1", "pubDate": published}]
        feeds.set_feed("/en.xml", rss_feed(items))
        yield World(api, feeds, tmp_path)


def write_catalog(world: World, feed_paths: list[str], chats: list[str]) -> None:
    feeds = "".join(
        f'[[feeds]]\nurl = "{world.feeds.url(path)}"\nlanguage = "en"\n\n' for path in feed_paths
    )
    channels = "".join(
        f'[[channels]]\nchat = "{chat}"\nlanguage = "en"\nregions = ["georgia"]\n\n'
        for chat in chats
    )
    (world.root / "catalog.toml").write_text(
        '[outlet]\nname = "Wire"\nsite = "https://news.example"\nlanguages = ["en"]\n\n'
        '[[regions]]\ncode = "georgia"\nname = "Georgia"\n\n' + feeds + channels,
        encoding="utf-8",
    )


async def newsbot(world: World, *args: str, token: str | None = None) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_BOT_TOKEN=token or world.api.token,
        NEWSBOT_TELEGRAM_API_URL=world.api.base_url,
        NEWSBOT_EDITORS_CHAT_ID=str(EDITORS),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=world.root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Outcome(process.returncode, out.decode(), err.decode())


async def test_all_well_exits_0_with_one_line_per_source(world: World) -> None:
    write_catalog(world, ["/en.xml"], ["@cw_georgia"])
    assert (await newsbot(world, "db", "upgrade")).code == 0
    result = await newsbot(world, "check", "--online")
    assert result.code == 0, result.stderr
    assert "newsbot: problem" not in result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"ok: feed {world.feeds.url('/en.xml')}: 1 item, newest 2026-11-30 08:15 UTC; "
        "no WordPress REST API found (gap fill and removal checks off)"
    ) in lines
    assert any(line.startswith("ok: channel @cw_georgia: channel 'Georgia news'") for line in lines)
    assert any(line.startswith(f"ok: editors' chat {EDITORS}: supergroup") for line in lines)
    assert any(
        line.startswith("ok: database: reachable, at the latest migration") for line in lines
    )
    assert any(line.startswith("ok: webhook: none (long polling)") for line in lines)
    assert lines[-1] == "all well"
    assert world.api.token.split(":")[1] not in result.stdout + result.stderr


async def test_a_locked_channel_and_a_dead_feed_are_one_line_each(world: World) -> None:
    bot_id = int(world.api.bot_user["id"])
    world.api.set_chat(LOCKED_CHANNEL, "channel", title="Armenia news")
    world.api.set_member(LOCKED_CHANNEL, bot_id, "member")
    write_catalog(world, ["/en.xml", "/gone.xml"], ["@cw_georgia", str(LOCKED_CHANNEL)])
    assert (await newsbot(world, "db", "upgrade")).code == 0
    result = await newsbot(world, "check", "--online")
    assert result.code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("newsbot:")]
    assert problems == [
        f"newsbot: problem: channel {LOCKED_CHANNEL}: the bot is not an administrator (member): "
        "make it an administrator allowed to post messages "
        f"(channel 'Armenia news', id {LOCKED_CHANNEL})",
        f"newsbot: problem: feed {world.feeds.url('/gone.xml')}: answered HTTP 404",
    ]
    assert result.stdout.splitlines()[-1] == "2 problems found"


async def test_an_unknown_channel_a_rejected_token_and_an_old_database(world: World) -> None:
    write_catalog(world, ["/en.xml"], ["@nobody_here"])
    result = await newsbot(world, "check", "--online")  # no `db upgrade`: an empty database
    assert result.code == 2
    assert "newsbot: problem: channel @nobody_here: not reachable: Chat not found" in result.stderr
    assert "newsbot: problem: database: at migration none, the latest is" in result.stderr
    rejected = await newsbot(world, "check", "--online", token="42:NotATokenTheServerKnows")
    assert rejected.code == 2
    assert "newsbot: problem: NEWSBOT_BOT_TOKEN: Telegram rejected the token" in rejected.stderr


async def test_online_check_needs_a_token(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        "--online",
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")},
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert b"NEWSBOT_BOT_TOKEN" in err


async def test_the_wordpress_rest_api_each_feed_would_use_is_shown(world: World) -> None:
    items = [{"title": "One", "link": "https://news.example/1"}]
    link = f'<{world.feeds.url("/wp-json/")}>; rel="https://api.w.org/"'
    world.feeds.set_feed("/wp/feed/", rss_feed(items), headers={"Link": link})
    write_catalog(world, ["/wp/feed/"], ["@cw_georgia"])
    assert (await newsbot(world, "db", "upgrade")).code == 0
    result = await newsbot(world, "check", "--online")
    assert result.code == 0, result.stderr
    expected = (
        f"WordPress REST API {world.feeds.url('/wp-json/wp/v2/')} (found by the feed's Link header)"
    )
    assert any(
        line.startswith(f"ok: feed {world.feeds.url('/wp/feed/')}: 1 item")
        and line.endswith(expected)
        for line in result.stdout.splitlines()
    ), result.stdout
