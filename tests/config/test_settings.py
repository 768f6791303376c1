"""Settings come from NEWSBOT_* variables and name the bad one when invalid."""

from __future__ import annotations

import pytest

from bot.config import load_settings, problems_for_mode
from bot.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_defaults_follow_the_contract() -> None:
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///./newsbot.db"
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.web_port == 8080 and s.web_host == "127.0.0.1"
    assert s.broadcast_rate == 30 and not s.paid_broadcast
    assert s.effective_rate == 30


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "1, 22 333")
    monkeypatch.setenv("NEWSBOT_PAID_BROADCAST", "true")
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", "http://127.0.0.1:9/")
    s = load_settings()
    assert s.admin_ids == (1, 22, 333)
    assert s.effective_rate == 1000
    assert s.telegram_api_url == "http://127.0.0.1:9"


def test_dotenv_file_is_read(tmp_path: object) -> None:
    from pathlib import Path

    Path(".env").write_text("NEWSBOT_LOG_LEVEL=debug\n", encoding="utf-8")
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSBOT_WEB_PORT", "eighty"),
        ("NEWSBOT_BROADCAST_RATE", "0"),
        ("NEWSBOT_LOG_LEVEL", "LOUD"),
        ("NEWSBOT_TELEGRAM_API_URL", "ftp://x"),
        ("NEWSBOT_ADMIN_IDS", "alice"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert any(p.startswith(name) for p in info.value.problems), info.value.problems


def test_token_required_only_when_talking_to_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert problems_for_mode(s, needs_token=False) == []
    assert problems_for_mode(s, needs_token=True)[0].startswith("NEWSBOT_BOT_TOKEN")
    monkeypatch.setenv("NEWSBOT_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("NEWSBOT_WEBHOOK_URL", "https://bot.example/telegram")
    problems = problems_for_mode(load_settings(), needs_token=True)
    assert problems == ["NEWSBOT_WEBHOOK_SECRET: required when NEWSBOT_WEBHOOK_URL is set"]
