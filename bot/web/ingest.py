"""``POST /ingest``: the CMS's publish hook (CONTRACT.md "Web endpoints").

A WordPress publish hook posts a small JSON body naming the post, for example
``{"post_id": 123, "url": "https://site/2026/11/story/"}``, signed with the shared
secret ``NEWSBOT_INGEST_SECRET``: header ``X-Newsbot-Signature: sha256=<hex>`` where
``<hex>`` is HMAC-SHA256 of the exact body bytes. A good request is answered 202 at
once and the article is fetched and pushed in the background; polling stays the
safety net. Without a configured secret the endpoint answers 404; a bad signature
is refused (401) and logged, and the body is never parsed.

This module knows nothing of the scheduler: the composition root passes the
function that does the work (``Ingestor.push``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsbot-Signature"
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class PushRequest:
    """What the CMS says was published: a WordPress post id, its URL, or both."""

    post_id: int | None = None
    url: str | None = None


Push = Callable[[PushRequest], Awaitable[object]]


def sign(secret: str, body: bytes) -> str:
    """The header value a client sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``sha256=<hex>`` (a bare hex digest is accepted too)."""
    if not header:
        return False
    given = header.strip().removeprefix("sha256=").lower()
    expected = sign(secret, body).removeprefix("sha256=")
    return hmac.compare_digest(given.encode(), expected.encode())


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
    return PushRequest(post_id if post_id and post_id > 0 else None, url or None)


class IngestHook:
    """The ``POST /ingest`` handler; ``install`` adds its route to an app."""

    def __init__(self, secret: str | None, push: Push) -> None:
        self._secret = secret or ""
        self._push = push
        self._tasks: set[asyncio.Task[None]] = set()

    def install(self, app: web.Application) -> None:
        app.router.add_post("/ingest", self.handle)
        app.on_cleanup.append(self._drain)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._secret:
            return web.Response(status=404, text="ingest hook not configured")
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413)
        if not verify(self._secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("ingest: refused a request with a bad signature from %s", request.remote)
            return web.Response(status=401, text="bad signature")
        push = parse_push(body)
        if push is None:
            log.warning("ingest: signed request names no post id or URL")
            return web.Response(status=400, text="expected JSON with post_id or url")
        task = asyncio.create_task(self._run(push))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"accepted": True}, status=202)

    async def _run(self, push: PushRequest) -> None:
        try:
            await self._push(push)
        except Exception:  # a push failing must not take the server down
            log.exception("ingest: push of %s failed", push)

    async def _drain(self, _app: web.Application) -> None:
        """On shutdown, let pushes in flight finish (they are seconds long)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
