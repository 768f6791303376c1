"""The aiohttp server: health, metrics and (with a webhook) Telegram updates."""

from bot.web.server import WebServer

__all__ = ["WebServer"]
