"""``GET /r/<token>``: count a tap on a tracked link, then answer 302 to its target.

The target comes only from a token whose HMAC verifies (``bot.links``): a
forged or altered token gets 404, so this is never an open redirect. A tap is
counted at most once per reader, target and UTC day (a unique key in the
``clicks`` table); the reader is a keyed hash of IP and User-Agent because
Telegram gives no user id on a URL tap. One address counts as at most
``READERS_PER_ADDRESS`` readers per target and day, however its User-Agent
changes (a household or an office shares an address; a script varying its
User-Agent does not become a crowd). Link-preview bots (Telegram fetches every
link it shows) and other crawlers are redirected but not counted.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import logging
import re
import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from bot.clock import Clock
from bot.config import IPNetwork
from bot.links import LinkTarget, verify
from bot.storage.clicks import add_click, readers_from_address
from bot.storage.failures import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

_AUTOMATED = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|embedly|whatsapp|"
    r"curl/|wget/|python-|aiohttp|httpx|go-http-client|headless|scrapy|okhttp",
    re.IGNORECASE,
)
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
READERS_PER_ADDRESS = 3
LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


def is_automated(user_agent: str) -> bool:
    """Link-preview bots (``TelegramBot (like TwitterBot)``), crawlers and scripts.

    An empty User-Agent counts as automated: every browser and in-app viewer sends one.
    """
    return not user_agent.strip() or _AUTOMATED.search(user_agent) is not None


def reader_key(key: bytes, ip: str, user_agent: str) -> str:
    """A stable pseudonymous reader id: raw IPs are never stored."""
    message = f"reader\n{ip}\n{user_agent}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def address_key(key: bytes, ip: str) -> str:
    """The address alone, keyed the same way (never stored raw)."""
    return hmac.new(key, f"address\n{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def target_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def client_ip(request: web.Request, trusted: Sequence[IPNetwork] = LOOPBACK) -> str:
    """The tapping client's address; ``X-Forwarded-For`` is read only from a trusted peer.

    From a peer in ``trusted`` (``NEWSBOT_TRUSTED_PROXIES``), the header is walked from
    the right, past the trusted proxies' own hops, to the first address that is not
    one: proxies append, so what lies left of that was written by the client and is
    ignored. From any other peer the header is ignored, so it cannot inflate counts.
    """
    remote = request.remote or ""
    if not _within(remote, trusted):
        return remote
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    client = remote
    for hop in reversed([h.strip() for h in hops if h.strip()]):
        if _parse(hop) is None:
            break
        client = hop
        if not _within(hop, trusted):
            break
    return client


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _within(address: str, networks: Sequence[IPNetwork]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in network for network in networks)


async def record_click(
    session: AsyncSession, target: LinkTarget, reader: str, address: str, now: datetime
) -> str:
    """Count the tap unless this reader already tapped this target today (``repeat``) or
    its address already counts as ``READERS_PER_ADDRESS`` readers of it (``capped``);
    ``counted`` when new."""
    target_hash = target_key(target.url)
    readers = await readers_from_address(session, now.date(), address, target_hash, target.kind)
    if readers >= READERS_PER_ADDRESS:
        return "capped"
    added = await add_click(
        session,
        kind=target.kind,
        target=target_hash,
        url=target.url,
        language=target.language,
        regions=" ".join(target.regions),
        reader=reader,
        address=address,
        now=now,
    )
    return "counted" if added else "repeat"


class TapMetrics:
    """``newsbot_link_taps_total{kind, outcome}``: counted, repeat (same reader and day),
    capped (the address already counts as enough readers), automated (preview bots,
    crawlers), refused (bad token), error (database)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.taps = Counter(
            "newsbot_link_taps",
            "Taps on tracked links by kind (article, donate, unknown) and outcome",
            ["kind", "outcome"],
            registry=registry,
        )


@functools.cache
def shared_tap_metrics() -> TapMetrics:
    """The process-wide metrics on prometheus-client's global registry (created once)."""
    return TapMetrics(REGISTRY)


class Redirects:
    """The ``/r/{token}`` handler, with its key, database and clock."""

    def __init__(
        self,
        key: bytes,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        metrics: TapMetrics | None = None,
        trusted_proxies: Sequence[IPNetwork] = LOOPBACK,
    ) -> None:
        self._key = key
        self._sessions = sessions
        self._clock = clock
        self._metrics = metrics or shared_tap_metrics()
        self._trusted = tuple(trusted_proxies)
        # Taps from one address are counted one at a time, so its cap holds in this process.
        self._address_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        target = verify(self._key, request.match_info.get("token", ""))
        if target is None:
            log.info("tracked link: refused a bad token from %s", request.remote)
            self._metrics.taps.labels("unknown", "refused").inc()
            return web.Response(status=404, text="Not found", headers=_NO_STORE)
        user_agent = request.headers.get("User-Agent", "")
        if request.method == "GET":
            if is_automated(user_agent):
                outcome = "automated"
            else:
                ip = client_ip(request, self._trusted)
                outcome = await self._count(target, ip, user_agent)
            self._metrics.taps.labels(target.kind, outcome).inc()
        return web.Response(status=302, headers={"Location": target.url, **_NO_STORE})

    async def _count(self, target: LinkTarget, ip: str, user_agent: str) -> str:
        """Best effort: a database hiccup must not keep the reader from the article."""
        reader = reader_key(self._key, ip, user_agent)
        address = address_key(self._key, ip)
        lock = self._address_locks.setdefault(address, asyncio.Lock())
        try:
            async with lock, self._sessions.begin() as session:
                return await record_click(session, target, reader, address, self._clock.now())
        except DatabaseError as exc:
            log.warning("tracked link: tap not counted: %r", exc)
            return "error"

    def install(self, app: web.Application) -> None:
        app.router.add_get("/r/{token}", self.handle)
