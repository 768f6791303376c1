"""The private listener (``NEWSBOT_METRICS_HOST:NEWSBOT_METRICS_PORT``): ``/metrics`` and
the detailed ``/healthz``.

Kept apart from the public listener so that a reverse proxy in front of
``NEWSBOT_WEB_PORT`` exposes only what readers, Telegram and the CMS need; the
scraper and the orchestrator's health probe reach this one on a private address.
Every role runs it: a worker's sender counters live in the worker process.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.audience_metrics import shared_audience_metrics
from bot.config import Settings
from bot.metrics import shared_metrics
from bot.storage.engine import Sessions
from bot.web.health import HealthChecks
from bot.web.listener import Listener

log = logging.getLogger(__name__)

SESSIONS = web.AppKey("private_sessions", Sessions)
CHECKS = web.AppKey("health_checks", HealthChecks)


async def detailed_healthz(request: web.Request) -> web.Response:
    """Every registered check, 200 when all pass, 503 otherwise."""
    healthy, report = await request.app[CHECKS].report()
    return web.json_response(report, status=200 if healthy else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text; the backlog gauge (at most every few seconds) and the audience
    gauges of ``/stats`` (at most once a minute) are read from the database first, and
    served stale with a warning if the database does not answer."""
    try:
        await shared_metrics().refresh_backlog(request.app[SESSIONS])
        await shared_audience_metrics().refresh(request.app[SESSIONS])
    except Exception as exc:
        log.warning("metrics: gauges not refreshed, database unavailable: %r", exc)
    body = generate_latest()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_private_app(sessions: Sessions, checks: HealthChecks) -> web.Application:
    app = web.Application()
    app[SESSIONS] = sessions
    app[CHECKS] = checks
    app.router.add_get("/healthz", detailed_healthz)
    app.router.add_get("/metrics", metrics)
    return app


class MetricsServer(Listener):
    """The private listener of one process."""

    def __init__(self, settings: Settings, sessions: Sessions, checks: HealthChecks) -> None:
        super().__init__(
            make_private_app(sessions, checks), settings.metrics_host, settings.metrics_port
        )
