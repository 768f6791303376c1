"""The public listener (``NEWSBOT_WEB_HOST:NEWSBOT_WEB_PORT``): ``POST /telegram``,
``GET /r/<token>``, ``POST /ingest`` and a bare liveness ``GET /healthz``; nothing else.

``/metrics`` and the detailed health report live on the private listener
(``bot.web.private``), so exposing this one through a reverse proxy exposes only
what readers, Telegram and the CMS need. State travels in typed ``web.AppKey``s.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.inbox import Inbox
from bot.storage.engine import Sessions
from bot.storage.probes import ping
from bot.web.ingest import IngestHook
from bot.web.listener import Listener
from bot.web.redirect import Redirects

log = logging.getLogger(__name__)

SESSIONS = web.AppKey("sessions", Sessions)
SETTINGS = web.AppKey("settings", Settings)
PTB_APP = web.AppKey("ptb_application", object)
INBOX = web.AppKey("inbox", Inbox)

MAX_UPDATE_BYTES = 1 << 20


async def healthz(request: web.Request) -> web.Response:
    """200 when the process is up and the database answers; no details (those are on the
    private listener)."""
    try:
        async with request.app[SESSIONS]() as session:
            await ping(session)
    except Exception as exc:
        log.warning("health check: database unavailable: %r", exc)
        return web.json_response({"ok": False, "database": "unavailable"}, status=503)
    return web.json_response({"ok": True})


async def telegram_webhook(request: web.Request) -> web.Response:
    """Updates pushed by Telegram; refused without the secret header."""
    settings = request.app[SETTINGS]
    expected = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("webhook call without the right secret from %s", request.remote)
        return web.Response(status=403)
    if (request.content_length or 0) > MAX_UPDATE_BYTES:
        return web.Response(status=413)
    application: Any = request.app[PTB_APP]
    try:
        data = await request.json()
        update = Update.de_json(data, application.bot)
    except Exception:
        log.warning("webhook: unreadable update ignored")
        return web.Response(status=400)
    if update is None or not isinstance(data, dict):
        return web.Response(status=400)
    # Answered 200 only once stored: otherwise Telegram delivers it again later.
    if not await request.app[INBOX].accept([(update.update_id, data)]):
        return web.Response(status=503)
    return web.Response(text="ok")


def make_app(
    settings: Settings,
    sessions: Sessions,
    application: Application[Any, Any, Any, Any, Any, Any] | None = None,
    redirects: Redirects | None = None,
    ingest: IngestHook | None = None,
    inbox: Inbox | None = None,
) -> web.Application:
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[SESSIONS] = sessions
    app[SETTINGS] = settings
    app.router.add_get("/healthz", healthz)
    if application is not None and inbox is not None and settings.webhook_url:
        app[PTB_APP] = application
        app[INBOX] = inbox
        app.router.add_post("/telegram", telegram_webhook)
    if redirects is not None:
        redirects.install(app)
    if ingest is not None:
        ingest.install(app)
    return app


class WebServer(Listener):
    """The public listener of a process that serves updates and the web endpoints."""

    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        application: Application[Any, Any, Any, Any, Any, Any] | None = None,
        redirects: Redirects | None = None,
        ingest: IngestHook | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        app = make_app(settings, sessions, application, redirects, ingest, inbox)
        super().__init__(app, settings.web_host, settings.web_port)
