"""Persistent connections to one origin (scheme, host, port) for :mod:`bot.telegram.lean`.

Every failure here happens before any byte of the request was written, so each one is
a "not sent" error the sender may retry: no free slot within the pool timeout or no
connection within the connect timeout is :class:`NotSentTimedOut`, a refused, unresolvable
or unverifiable (TLS) server is :class:`ConnectionNotSent`.

An idle connection the server has closed is noticed (its end of stream arrived) and
replaced before the request is written. One idle past :data:`KEEP_IDLE` seconds is closed
rather than reused, since servers drop idle connections after a while and a request
written into one that the server is closing at that moment may or may not have been read.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Final

from bot.telegram.connection import Http1Connection
from bot.telegram.request import ConnectionNotSent, NotSentTimedOut

__all__ = ["KEEP_IDLE", "ConnectionPool"]

KEEP_IDLE: Final = 15.0  # seconds, as aiohttp's connector keeps idle connections


class ConnectionPool:
    """Up to ``size`` connections to ``host:port``, plain or TLS (``ssl_context``)."""

    __slots__ = ("_closed", "_host", "_idle", "_port", "_slots", "_ssl", "size")

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None, size: int) -> None:
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Http1Connection] = []  # the most recently used last
        self._closed = False

    async def acquire(
        self, connect_timeout: float | None, pool_timeout: float | None
    ) -> Http1Connection:
        """A connection ready for one request, holding one of the pool's slots until
        :meth:`release`."""
        await self._take_slot(pool_timeout)
        try:
            return self._reuse() or await self._connect(connect_timeout)
        except BaseException:
            self._slots.release()
            raise

    def release(self, connection: Http1Connection) -> None:
        """Give the slot back, and the connection too when it can serve another request."""
        self._slots.release()
        if connection.reusable and not self._closed:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close the idle connections; those in use close when they are released."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _take_slot(self, pool_timeout: float | None) -> None:
        if self._closed:
            raise ConnectionNotSent("The connection pool is closed. Request was *not* sent.")
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise NotSentTimedOut(
                "Pool timeout: all connections in the connection pool are occupied. "
                "Request was *not* sent to Telegram."
            ) from None

    def _reuse(self) -> Http1Connection | None:
        """The freshest idle connection still open; stale and closed ones are dropped."""
        idle = self._idle
        oldest_allowed = time.monotonic() - KEEP_IDLE
        while idle:
            connection = idle.pop()
            if connection.reusable and connection.idle_since >= oldest_allowed:
                return connection
            connection.close()
        return None

    async def _connect(self, connect_timeout: float | None) -> Http1Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, connection = await loop.create_connection(
                    Http1Connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                )
        except TimeoutError:
            raise NotSentTimedOut(
                f"Connect timeout to {self._host}:{self._port}. Request was *not* sent to Telegram."
            ) from None
        except ConnectionRefusedError as err:
            raise ConnectionNotSent(
                f"Connection refused by {self._host}:{self._port}. Request was *not* sent."
            ) from err
        except OSError as err:  # DNS, unreachable, TLS handshake and certificate failures
            raise ConnectionNotSent(
                f"Cannot connect to {self._host}:{self._port} "
                f"({err.__class__.__name__}: {err}). Request was *not* sent."
            ) from err
        return connection
