"""Process settings: the ``NEWSBOT_*`` environment variables (and ``.env``).

Settings are read once, by the composition root, and passed down (DESIGN.md
decision 10); nothing here runs at import time.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError
from bot.redact import token_secret

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
MIN_SECRET_LENGTH = 16
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_WEBHOOK_SECRET_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)


class Settings(BaseSettings):
    """Every ``NEWSBOT_*`` setting from CONTRACT.md, plus a few operator extras."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./newsbot.db"
    telegram_api_url: str = "https://api.telegram.org"
    catalog: Path = Path("./catalog.toml")
    public_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Telegram's simultaneous webhook connections (1-100; Telegram's default is 40).
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    editors_chat_id: int | None = None
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)
    paid_broadcast: bool = False
    # Seconds a request may take from being written out to reaching Telegram (network
    # jitter): the pacer counts each send for a second plus this (bot.outbox.pacing).
    send_reach: float = Field(default=0.015, ge=0, le=1)
    # How Bot API calls travel: "lean" (JSON calls on the bot's own HTTP/1.1 connections,
    # bot.telegram.lean; uploads and downloads through aiohttp) or "aiohttp" (every call).
    telegram_transport: Literal["lean", "aiohttp"] = "lean"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    # Extras (not in the contract's table; safe defaults):
    link_secret: SecretStr | None = None
    ingest_secret: SecretStr | None = None
    summary_length: int = Field(default=600, ge=80, le=3500)
    # Start-up and retention (CONTRACT.md settings table):
    db_wait: float = Field(default=60.0, ge=0)
    keep_deliveries_days: int = Field(default=30, ge=1)
    keep_articles_days: int = Field(default=365, ge=1)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        """Accept ``"1, 2 3"`` as well as a JSON-ish list."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return tuple(int(p) for p in parts)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """``"127.0.0.0/8, 10.1.2.3"``: CIDRs or single addresses, by commas or spaces."""
        if not isinstance(value, str):
            return value
        networks: list[IPNetwork] = []
        for part in value.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network (CIDR)") from None
        return tuple(networks)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """The bot runs on asyncio: a URL naming a synchronous driver cannot work."""
        return check_async_database_url(value)

    @field_validator("telegram_api_url", "public_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("bot_token", "webhook_secret", "link_secret", "ingest_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("editors_chat_id", mode="before")
    @classmethod
    def _empty_chat_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def effective_rate(self) -> float:
        """Messages per second the sender may use, all chats together."""
        return 1000.0 if self.paid_broadcast else min(self.broadcast_rate, 1000.0)

    @property
    def token(self) -> str:
        """The bot token, or a placeholder for modes that never call Telegram."""
        return self.bot_token.get_secret_value() if self.bot_token else "0:dry-run"

    def signing_key(self) -> bytes:
        """Key for signed links and callback data: explicit, else derived from the token."""
        if self.link_secret:
            return self.link_secret.get_secret_value().encode()
        return ("newsbot-links:" + self.token).encode()

    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    def secret_values(self) -> list[str]:
        """Every secret this process knows, for masking in logs (``bot.redact``)."""
        found = [
            secret.get_secret_value()
            for secret in (self.webhook_secret, self.ingest_secret, self.link_secret)
            if secret is not None
        ]
        if self.bot_token is not None:
            found.append(token_secret(self.bot_token.get_secret_value()))
        return [value for value in found if value]


ASYNC_DRIVERS = {
    "sqlite": ("aiosqlite",),
    "postgresql": ("asyncpg",),
}


def check_async_database_url(value: str) -> str:
    """Refuse database URLs without an asyncio driver, saying what to write instead."""
    try:
        url = make_url(value.strip())
    except ArgumentError:
        raise ValueError(
            "not a database URL; write e.g. sqlite+aiosqlite:///./newsbot.db "
            "or postgresql+asyncpg://user@host/newsbot"
        ) from None
    backend = url.get_backend_name()
    drivers = ASYNC_DRIVERS.get(backend)
    if drivers is None:
        raise ValueError(f"unsupported database {backend!r}; use SQLite or PostgreSQL")
    # The bare scheme names SQLAlchemy's default driver, which is a synchronous one.
    if "+" not in url.drivername or url.get_driver_name() not in drivers:
        raise ValueError(
            f"{backend}:// needs an async driver: write {backend}+{drivers[0]}:// "
            f"instead of {url.drivername}://"
        )
    return value.strip()


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and ``.env``; raise ConfigError naming each bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from None


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
    name = f"NEWSBOT_{loc.upper()}" if loc else "settings"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{name}: {msg}"


def problems_for_mode(settings: Settings, *, needs_token: bool) -> list[str]:
    """Cross-setting rules that depend on what the process is asked to do."""
    problems: list[str] = []
    if needs_token and settings.bot_token is None:
        problems.append("NEWSBOT_BOT_TOKEN: required to talk to Telegram (or use --dry-run)")
    if needs_token and settings.bot_token is not None:
        token = settings.bot_token.get_secret_value()
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            problems.append("NEWSBOT_BOT_TOKEN: does not look like a token from @BotFather")
    if settings.webhook_url and settings.webhook_secret is None:
        problems.append("NEWSBOT_WEBHOOK_SECRET: required when NEWSBOT_WEBHOOK_URL is set")
    if settings.webhook_url and not settings.webhook_url.startswith("https://"):
        problems.append("NEWSBOT_WEBHOOK_URL: Telegram only delivers webhooks to https URLs")
    return problems + secret_problems(settings)


def secret_problems(settings: Settings) -> list[str]:
    """Secrets too short to resist guessing, each named with how to make a good one."""
    problems: list[str] = []
    named = (
        ("NEWSBOT_WEBHOOK_SECRET", settings.webhook_secret),
        ("NEWSBOT_INGEST_SECRET", settings.ingest_secret),
        ("NEWSBOT_LINK_SECRET", settings.link_secret),
    )
    for name, secret in named:
        value = secret.get_secret_value() if secret is not None else ""
        if secret is not None and len(value) < MIN_SECRET_LENGTH:
            problems.append(
                f"{name}: too short ({len(value)} characters, at least {MIN_SECRET_LENGTH}); "
                f"make one with: {MAKE_SECRET}"
            )
    webhook = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if len(webhook) > 256 or not set(webhook) <= _WEBHOOK_SECRET_CHARS:
        problems.append(
            "NEWSBOT_WEBHOOK_SECRET: Telegram accepts only A-Z a-z 0-9 _ - (at most 256); "
            f"make one with: {MAKE_SECRET}"
        )
    return problems
