"""The process's HTTP: one aiohttp session for the origins the operator named, and the
outbound guard for everything else."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.catalog import Catalog
from bot.config import Settings
from bot.net.guard import OutboundGuard
from bot.net.policy import OutboundPolicy
from scheduler.fetch import Fetcher, FetchLimits

USER_AGENT = "newsbot/0.1 (Telegram distribution bot; +https://github.com/newsbot)"


@dataclass
class Outbound:
    """The process's HTTP: ``http`` reaches the origins the operator named (the Bot API
    and the catalog's URLs) and carries the Bot API calls; ``fetcher`` fetches through
    it and, for everything else, through the guard (outlet hosts, public addresses)."""

    http: aiohttp.ClientSession
    guard: OutboundGuard
    fetcher: Fetcher

    async def close(self) -> None:
        await self.http.close()
        await self.guard.close()


def open_outbound(
    settings: Settings, catalog: Catalog, limits: FetchLimits | None = None
) -> Outbound:
    """The one way this process fetches; call inside the event loop, close when done."""
    headers = {"User-Agent": USER_AGENT}
    http = aiohttp.ClientSession(headers=headers)
    guard = OutboundGuard(OutboundPolicy.from_config(settings, catalog), headers=headers)
    fetcher = Fetcher(http, limits=limits or FetchLimits(), user_agent=USER_AGENT, guard=guard)
    return Outbound(http, guard, fetcher)
