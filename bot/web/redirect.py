"""``GET /r/<token>``: count a tap on a tracked link, then answer 302 to its target.

The target comes only from a token whose HMAC verifies (``bot.links``): a
forged or altered token gets 404, so this is never an open redirect. A tap is
counted at most once per reader, target and UTC day (a unique key in the
``clicks`` table); the reader is a keyed hash of IP and User-Agent because
Telegram gives no user id on a URL tap. Link-preview bots (Telegram fetches
every link it shows) and other crawlers are redirected but not counted.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from datetime import datetime

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.links import LinkTarget, verify
from bot.storage.models import ClickRow
from bot.storage.repo import insert_ignoring_conflicts

log = logging.getLogger(__name__)

_AUTOMATED = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|embedly|whatsapp|"
    r"curl/|wget/|python-|aiohttp|httpx|go-http-client|headless|scrapy|okhttp",
    re.IGNORECASE,
)
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def is_automated(user_agent: str) -> bool:
    """Link-preview bots (``TelegramBot (like TwitterBot)``), crawlers and scripts.

    An empty User-Agent counts as automated: every browser and in-app viewer sends one.
    """
    return not user_agent.strip() or _AUTOMATED.search(user_agent) is not None


def reader_key(key: bytes, ip: str, user_agent: str) -> str:
    """A stable pseudonymous reader id: raw IPs are never stored."""
    message = f"reader\n{ip}\n{user_agent}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def target_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def client_ip(request: web.Request) -> str:
    """The tapping client's address; ``X-Forwarded-For`` is trusted only from a local proxy.

    A reverse proxy on the same host or network appends the client address last;
    from anywhere else the header is ignored, so it cannot be used to inflate counts.
    """
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and _is_local(remote):
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return remote


def _is_local(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


async def record_click(
    session: AsyncSession, target: LinkTarget, reader: str, now: datetime
) -> bool:
    """Insert the tap unless this reader already tapped this target today; True when new."""
    stmt = (
        insert_ignoring_conflicts(session, ClickRow)
        .values(
            kind=target.kind,
            target=target_key(target.url),
            url=target.url,
            language=target.language[:8],
            regions=" ".join(target.regions)[:512],
            reader=reader,
            day=now.date(),
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


class TapMetrics:
    """``newsbot_link_taps_total{kind, outcome}``: counted, repeat (same reader and day),
    automated (preview bots, crawlers), refused (bad token), error (database)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.taps = Counter(
            "newsbot_link_taps",
            "Taps on tracked links by kind (article, donate, unknown) and outcome",
            ["kind", "outcome"],
            registry=registry,
        )


_shared: TapMetrics | None = None


def shared_tap_metrics() -> TapMetrics:
    """The process-wide metrics on prometheus-client's global registry (created once)."""
    global _shared
    if _shared is None:
        _shared = TapMetrics(REGISTRY)
    return _shared


class Redirects:
    """The ``/r/{token}`` handler, with its key, database and clock."""

    def __init__(
        self,
        key: bytes,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        metrics: TapMetrics | None = None,
    ) -> None:
        self._key = key
        self._sessions = sessions
        self._clock = clock
        self._metrics = metrics or shared_tap_metrics()

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
                reader = reader_key(self._key, client_ip(request), user_agent)
                outcome = await self._count(target, reader)
            self._metrics.taps.labels(target.kind, outcome).inc()
        return web.Response(status=302, headers={"Location": target.url, **_NO_STORE})

    async def _count(self, target: LinkTarget, reader: str) -> str:
        """Best effort: a database hiccup must not keep the reader from the article."""
        try:
            async with self._sessions.begin() as session:
                new = await record_click(session, target, reader, self._clock.now())
        except SQLAlchemyError as exc:
            log.warning("tracked link: tap not counted: %r", exc)
            return "error"
        return "counted" if new else "repeat"

    def install(self, app: web.Application) -> None:
        app.router.add_get("/r/{token}", self.handle)
