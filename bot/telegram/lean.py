"""The Bot API's JSON calls on the bot's own HTTP/1.1 keep-alive connections.

``NEWSBOT_TELEGRAM_TRANSPORT=lean``, the default (``aiohttp`` opts out).

At 1000 messages/s the HTTP client was the largest single cost of a send: aiohttp builds
a request object, headers, a payload, a response object and a stream reader per call.
``bench/run.py --only fanout_30,fanout_1000`` with ``NEWSBOT_TELEGRAM_TRANSPORT=aiohttp`` and then
without, back to back on a 2-core machine: 0.597 and 0.396 ms of CPU per message including
PostgreSQL's share, the difference being aiohttp against writing prebuilt request bytes on an
``asyncio.Protocol`` and parsing the short answer (:mod:`bot.telegram.http1`).

This backend does only that, for POSTs of JSON parameters to an ``http`` or ``https``
origin; everything else (file uploads, downloads, URLs with credentials or a query) goes
through :class:`~bot.telegram.request.AiohttpRequest` on the shared session, which keeps
its proxies-free, multipart-capable behaviour. The exception contract is the same as
AiohttpRequest's: :class:`ConnectionNotSent` / :class:`NotSentTimedOut` before any byte
of the request was written, ``TimedOut`` for an answer that did not come in time,
``NetworkError`` for a connection that broke or spoke garbage after the request left.
"""

from __future__ import annotations

import json
import ssl
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.outbox.pacing import REQUEST_WRITTEN
from bot.telegram.connection import ConnectionClosed, ReadTimeout, WriteTimeout
from bot.telegram.http1 import MalformedResponse, request_head
from bot.telegram.pool import ConnectionPool
from bot.telegram.request import AiohttpRequest

__all__ = ["LeanRequest"]

_MAX_TARGETS: Final = 512  # cached URLs (the Bot API has under 200 methods)
_Target = tuple[ConnectionPool, bytes]  # the pool and the head up to "Content-Length: "


class LeanRequest(BaseRequest):
    """``BaseRequest`` writing JSON calls itself, others through :class:`AiohttpRequest`.

    Args:
        session: the process's aiohttp session, for the calls this backend hands over
            (never closed here).
        connection_pool_size: connections per origin, also the bound on calls in flight.
        read_timeout, write_timeout, connect_timeout, pool_timeout: instance defaults,
            used whenever PTB passes ``DEFAULT_NONE``; ``None`` means no limit.
        ssl_context: for ``https`` origins; by default the system's trust store with
            certificate and host name verification.
    """

    __slots__ = (
        "_connect_timeout",
        "_fallback",
        "_pool_timeout",
        "_pools",
        "_read_timeout",
        "_size",
        "_ssl",
        "_targets",
        "_write_timeout",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._fallback = AiohttpRequest(
            session,
            connection_pool_size=connection_pool_size,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        self._size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._ssl = ssl_context
        self._pools: dict[tuple[str, str, int], ConnectionPool] = {}
        self._targets: dict[str, _Target | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB adds to the long-polling ``timeout``."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Ready the fallback; connections open on first use."""
        await self._fallback.initialize()

    async def shutdown(self) -> None:
        """Close every idle connection (those in use close as their calls end)."""
        pools, self._pools = self._pools, {}
        self._targets = {}
        for pool in pools.values():
            pool.close()
        await self._fallback.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return ``(HTTP status, body)``; see ``BaseRequest.do_request``."""
        target = None
        if method == "POST" and request_data is not None and not request_data.contains_files:
            target = self._targets[url] if url in self._targets else self._target(url)
        if target is None or request_data is None:
            return await self._fallback.do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        pool, head = target
        body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        message = b"".join((head, str(len(body)).encode(), b"\r\n\r\n", body))
        connection = await pool.acquire(
            self._pick(connect_timeout, self._connect_timeout),
            self._pick(pool_timeout, self._pool_timeout),
        )
        try:
            response = await connection.exchange(
                message,
                REQUEST_WRITTEN.get(),
                self._pick(write_timeout, self._write_timeout),
                self._pick(read_timeout, self._read_timeout),
            )
        except ReadTimeout as err:
            raise TimedOut(str(err)) from err
        except WriteTimeout as err:
            raise TimedOut(str(err)) from err
        except (ConnectionClosed, MalformedResponse, OSError) as err:
            raise NetworkError(f"{err.__class__.__name__}: {err}") from err
        finally:
            pool.release(connection)
        return response.status, response.body

    @staticmethod
    def _pick(value: ODVInput[float], default: float | None) -> float | None:
        return default if isinstance(value, DefaultValue) else value

    def _target(self, url: str) -> _Target | None:
        """The pool and request head for ``url``, or ``None`` for the fallback; cached."""
        parts = urlsplit(url)
        target: _Target | None = None
        plain = parts.username is None and parts.password is None
        if parts.scheme in ("http", "https") and plain and parts.hostname and not parts.query:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            key = (parts.scheme, parts.hostname, port)
            pool = self._pools.get(key)
            if pool is None:
                context = self._tls() if parts.scheme == "https" else None
                pool = self._pools[key] = ConnectionPool(parts.hostname, port, context, self._size)
            head = request_head(parts.path or "/", parts.netloc, self.USER_AGENT, _JSON)
            target = (pool, head)
        if len(self._targets) < _MAX_TARGETS:
            self._targets[url] = target
        return target

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl


_JSON: Final = "application/json"
