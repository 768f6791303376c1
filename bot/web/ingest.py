"""``POST /ingest``: the CMS's publish hook (CONTRACT.md "Web endpoints").

A WordPress publish hook (``contrib/wordpress/newsbot-push.php``) posts a small JSON
body naming the post, for example ``{"post_id": 123, "url": "https://site/2026/11/story/",
"breaking": false}``, signed the way payment providers sign their webhooks: header
``X-Newsbot-Timestamp: <unix seconds>`` and ``X-Newsbot-Signature: sha256=<hex>``, where
``<hex>`` is HMAC-SHA256 with ``NEWSBOT_INGEST_SECRET`` of ``<timestamp>.<body bytes>``.

- The body is read whole however it arrives (several writes, chunked), up to 64 KiB (413).
- A timestamp more than 300 s from the server's clock, or a bad signature, is refused (401).
- A signature already accepted (kept in the database for the window, so every web
  process knows it) is answered 202 and not acted on again: a captured request replayed
  later does nothing.
- Pushes for a post whose fetch is running are merged into one more fetch after it.

A good request is answered 202 at once and the article is fetched and pushed in the
background; polling stays the safety net. Without a configured secret the endpoint
answers 404. This module knows nothing of the scheduler: the composition root passes
the function that does the work (``Ingestor.push``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.clock import Clock, SystemClock
from bot.storage.failures import DatabaseError
from bot.storage.replays import accept_once
from bot.web.body import BodyTimeout, BodyTooLarge, read_body
from bot.web.coalesce import Coalescer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsbot-Signature"
TIMESTAMP_HEADER = "X-Newsbot-Timestamp"
MAX_BODY = 64 * 1024
WINDOW = 300  # seconds either side of the server's clock
REMEMBERED = 4096  # accepted signatures this process answers without the database


@dataclass(frozen=True, slots=True)
class PushRequest:
    """What the CMS says was published: a WordPress post id, its URL, or both, and
    whether the newsroom marked it as breaking news."""

    post_id: int | None = None
    url: str | None = None
    breaking: bool = False

    @property
    def key(self) -> int | str:
        """Which post this is about, for merging pushes of the same post."""
        return self.post_id if self.post_id is not None else self.url or ""


Push = Callable[[PushRequest], Awaitable[object]]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Newsbot-Signature`` value a client sends for ``body`` at ``timestamp``."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str | None) -> str | None:
    """The signature's hex digest when ``header`` signs ``timestamp`` and ``body``
    (constant-time; a bare hex digest is accepted too), else ``None``."""
    if not header:
        return None
    given = header.strip().removeprefix("sha256=").lower()
    expected = sign(secret, timestamp, body).removeprefix("sha256=")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return expected


def parse_timestamp(header: str | None) -> int | None:
    """Unix seconds from the header: plain ASCII digits only."""
    value = (header or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


def parse_push(body: bytes) -> PushRequest | None:
    """The push request in a JSON body, or ``None`` when it names nothing usable."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    raw_id, raw_url = data.get("post_id", data.get("id")), data.get("url", data.get("link"))
    post_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    if isinstance(raw_id, str) and raw_id.strip().isdigit() and len(raw_id.strip()) < 19:
        post_id = int(raw_id.strip())
    url = raw_url.strip() if isinstance(raw_url, str) else None
    if url and not url.startswith(("http://", "https://")):
        url = None
    if (post_id is None or post_id <= 0) and not url:
        return None
    breaking = data.get("breaking") in (True, "true", "1", 1)
    return PushRequest(post_id if post_id and post_id > 0 else None, url or None, breaking)


def merge_pushes(waiting: PushRequest, newer: PushRequest) -> PushRequest:
    """Two pushes of one post: the newer names it, breaking if either said so."""
    return PushRequest(
        newer.post_id or waiting.post_id,
        newer.url or waiting.url,
        waiting.breaking or newer.breaking,
    )


class RecentSignatures:
    """Signatures this process accepted lately, with when they expire (unix seconds):
    a flood of one replayed request is answered from memory, not the database.
    Bounded: the oldest are forgotten first (the database still knows them)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def seen(self, digest: str, now: float) -> bool:
        expires = self._expiry.get(digest)
        return expires is not None and expires >= now

    def remember(self, digest: str, expires: float) -> None:
        self._expiry[digest] = expires
        self._expiry.move_to_end(digest)
        while len(self._expiry) > self._size:
            self._expiry.popitem(last=False)


class IngestHook:
    """The ``POST /ingest`` handler; ``install`` adds its route to an app."""

    def __init__(
        self,
        secret: str | None,
        push: Push,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
    ) -> None:
        self._secret = secret or ""
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._jobs: Coalescer[int | str, PushRequest] = Coalescer(push, merge_pushes)
        self._recent = RecentSignatures()

    def install(self, app: web.Application) -> None:
        app.router.add_post("/ingest", self.handle)
        app.on_cleanup.append(self._drain)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._secret:
            return web.Response(status=404, text="ingest hook not configured")
        try:
            body = await read_body(request, MAX_BODY)
        except BodyTooLarge:
            return web.Response(status=413, text=f"body over {MAX_BODY} bytes")
        except BodyTimeout:
            return web.Response(status=408, text="body not received in time")
        except (RequestPayloadError, ConnectionResetError):  # bad framing, or the client left
            return web.Response(status=400, text="malformed body")
        refusal, signed_at, digest = self._authenticate(request, body)
        if refusal is not None:
            log.warning("ingest: refused a request from %s: %s", request.remote, refusal)
            return web.Response(status=401, text=refusal)
        push = parse_push(body)
        if push is None:
            log.warning("ingest: signed request names no post id or URL")
            return web.Response(status=400, text="expected JSON with post_id or url")
        try:
            first = await self._accept_once(digest, signed_at)
        except DatabaseError as exc:
            log.warning("ingest: push not taken, database unavailable: %r", exc)
            return web.Response(status=503, text="try again later")
        if not first:
            log.info("ingest: a repeat of an accepted push (post %s) not acted on", push.key)
            return web.json_response({"accepted": True, "repeat": True}, status=202)
        self._jobs.submit(push.key, push)
        return web.json_response({"accepted": True}, status=202)

    def _authenticate(self, request: web.Request, body: bytes) -> tuple[str | None, int, str]:
        """(why refused or ``None``, signing time, signature digest)."""
        header = request.headers.get(TIMESTAMP_HEADER)
        signed_at = parse_timestamp(header)
        now = self._clock.now().replace(tzinfo=UTC).timestamp()
        if signed_at is None or abs(now - signed_at) > WINDOW:
            return f"missing or stale timestamp (more than {WINDOW} s off)", 0, ""
        digest = verify(self._secret, header or "", body, request.headers.get(SIGNATURE_HEADER))
        if digest is None:
            return "bad signature", signed_at, ""
        return None, signed_at, digest

    async def _accept_once(self, digest: str, signed_at: int) -> bool:
        """True the first time this signature is seen within its window (by any process:
        the database decides; what this process saw is answered from memory)."""
        now = self._clock.now()
        if self._recent.seen(digest, now.replace(tzinfo=UTC).timestamp()):
            return False
        expires = signed_at + WINDOW + 1
        async with self._sessions.begin() as session:
            first = await accept_once(session, digest, _naive_utc(expires), now)
        self._recent.remember(digest, expires)
        return first

    async def _drain(self, _app: web.Application) -> None:
        """On shutdown, let pushes in flight finish (they are seconds long)."""
        await self._jobs.drain(within=10)


def _naive_utc(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC).replace(tzinfo=None)
