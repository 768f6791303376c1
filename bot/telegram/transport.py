"""Which request backend carries the Bot API calls (``NEWSBOT_TELEGRAM_TRANSPORT``)."""

from __future__ import annotations

from typing import Literal

import aiohttp
from telegram.request import BaseRequest

from bot.telegram.lean import LeanRequest
from bot.telegram.request import AiohttpRequest

__all__ = ["telegram_request"]


def telegram_request(
    transport: Literal["lean", "aiohttp"],
    http: aiohttp.ClientSession,
    *,
    read_timeout: float = 5.0,
) -> BaseRequest:
    """The lean client by default; ``aiohttp`` puts every call on the shared session, the
    way to rule the lean client out when a problem is being chased."""
    if transport == "aiohttp":
        return AiohttpRequest(http, read_timeout=read_timeout)
    return LeanRequest(http, read_timeout=read_timeout)
