"""Secrets never printed: the logging mask on its own, then a real ``newsbot`` process at
DEBUG whose token the Bot API rejects, and one that runs with a webhook and stops."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.config import Settings
from bot.redact import SecretMask, install, token_secret
from tests.cli.test_check import newsbot
from tests.crash.support import CATALOG
from tests.fakes.botapi import FakeBotAPI

pytestmark = pytest.mark.exclusive

REPO = Path(__file__).resolve().parents[2]
TOKEN = "987654321:AAHrejectedTokenRejectedToken0123456"
WEBHOOK_SECRET = "webhook-secret-0123456789abcdef"
INGEST_SECRET = "ingest-secret-0123456789abcdef"
LINK_SECRET = "link-secret-0123456789abcdef"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing to a string through a handler that carries the mask."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(detail)s"))
    logger = logging.getLogger("tests.redact")
    logger.propagate, logger.level = False, logging.DEBUG
    logger.addHandler(handler)
    install(SecretMask([token_secret(TOKEN), INGEST_SECRET]), logger)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        install(SecretMask(()), logger)


def test_every_part_of_a_record_is_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    url = f"http://127.0.0.1:1/bot{TOKEN}/getMe"
    logger.debug("calling %s", url, extra={"detail": f"secret={INGEST_SECRET}"})
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected")
    except RuntimeError:
        logger.exception("failed at %s", quote(url, safe=""), extra={"detail": ""})
    logger.warning("a %s %s", TOKEN, extra={"detail": ""})  # arguments that do not fit
    logger.info("where", stack_info=True, extra={"detail": TOKEN})
    out = stream.getvalue()
    assert "Traceback" in out and "RuntimeError" in out and "--- Logging error" not in out
    for secret in (token_secret(TOKEN), INGEST_SECRET, quote(TOKEN, safe="")):
        assert secret not in out
    assert out.count("987654321:***") >= 4  # the bot's id stays readable


def test_short_values_are_left_alone() -> None:
    mask = SecretMask(["ab", "", "long-enough-secret"])
    assert mask.mask("ab cd long-enough-secret") == "ab cd ***"


def test_settings_name_every_secret_they_hold() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        ingest_secret=INGEST_SECRET,
        link_secret=LINK_SECRET,
    )
    values = settings.secret_values()
    assert sorted(values) == sorted(
        [token_secret(TOKEN), WEBHOOK_SECRET, INGEST_SECRET, LINK_SECRET]
    )
    assert Settings(_env_file=None).secret_values() == []  # type: ignore[call-arg]


def bot_env(api: FakeBotAPI, workdir: Path, token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_BOT_TOKEN=token,
        NEWSBOT_TELEGRAM_API_URL=api.base_url,
        NEWSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        NEWSBOT_WEB_PORT="0",
        NEWSBOT_METRICS_PORT="0",
        NEWSBOT_LOG_LEVEL="DEBUG",
        NEWSBOT_INGEST_SECRET=INGEST_SECRET,
        NEWSBOT_LINK_SECRET=LINK_SECRET,
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


async def start(workdir: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """The bot with its output in ``workdir/output.log``: at DEBUG it writes far more than
    a pipe holds, and a pipe nobody reads until the end would stall it mid-start."""
    catalog = workdir / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    with (workdir / "output.log").open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--catalog",
            str(catalog),
            "run",
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )


async def finished_output(process: asyncio.subprocess.Process, workdir: Path) -> str:
    await asyncio.wait_for(process.wait(), 60)
    return (workdir / "output.log").read_text(encoding="utf-8", errors="replace")


def assert_no_secret(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output, f"secret printed: {secret[:4]}…"
        assert quote(secret, safe="") not in output


async def test_a_rejected_token_is_never_printed(tmp_path: Path) -> None:
    async with FakeBotAPI() as api:  # accepts only its own token: ours gets 401
        process = await start(tmp_path, bot_env(api, tmp_path, TOKEN))
        output = await finished_output(process, tmp_path)
        assert api.calls("getMe")  # the token really was sent and refused
    assert process.returncode not in (0, None), output
    assert_no_secret(output, token_secret(TOKEN), INGEST_SECRET, LINK_SECRET)


async def test_a_running_bot_logs_no_secret_at_debug(tmp_path: Path) -> None:
    """The token in every Bot API URL and the webhook secret in setWebhook's parameters:
    DEBUG lines carry both, masked."""
    async with FakeBotAPI() as api:
        env = bot_env(
            api,
            tmp_path,
            api.token,
            NEWSBOT_WEBHOOK_URL="https://bot.example/telegram",
            NEWSBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        process = await start(tmp_path, env)
        try:
            await api.wait_for(lambda: api.webhook is not None, within=30)
        finally:
            process.send_signal(signal.SIGTERM)
            output = await finished_output(process, tmp_path)
    assert process.returncode == 0, output
    assert "setWebhook" in output and f"bot{api.token.partition(':')[0]}:***" in output
    assert_no_secret(output, token_secret(api.token), WEBHOOK_SECRET, INGEST_SECRET, LINK_SECRET)


def test_check_refuses_short_secrets_and_says_how_to_make_one(tmp_path: Path) -> None:
    catalog = {"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml")}
    short = {
        "NEWSBOT_WEBHOOK_SECRET": "x",
        "NEWSBOT_INGEST_SECRET": "fifteen-chars15",
        "NEWSBOT_LINK_SECRET": "abc",
    }
    result = newsbot("check", "--dry-run", cwd=tmp_path, env={**catalog, **short})
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    for name in short:
        line = next((line for line in lines if name in line), "")
        assert "at least 16" in line and "secrets.token_urlsafe" in line, result.stderr
    assert "fifteen-chars15" not in result.stderr
    good = {name: "a" * 16 for name in short}
    result = newsbot("check", "--dry-run", cwd=tmp_path, env={**catalog, **good})
    assert result.returncode == 0, result.stderr


def test_check_refuses_a_webhook_secret_telegram_would_refuse(tmp_path: Path) -> None:
    env = {
        "NEWSBOT_CATALOG": str(REPO / "catalog.example.toml"),
        "NEWSBOT_WEBHOOK_SECRET": "has spaces and é in it, long enough",
    }
    result = newsbot("check", "--dry-run", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "NEWSBOT_WEBHOOK_SECRET: Telegram accepts only" in result.stderr
