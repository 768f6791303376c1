"""A python-telegram-bot request backend on aiohttp.

PTB's default backend (httpx) costs about 1.4 ms of CPU per ``sendMessage``; aiohttp does
the same call for a fraction of that, and the process already holds one aiohttp
``ClientSession`` for fetching feeds. This backend lets Telegram calls share that session
(DESIGN.md, decision 6) while keeping PTB's contract of ``HTTPXRequest``: the same
constructor defaults, the same fallback to instance timeouts, and the same mapping of
transport failures to ``TimedOut`` / ``NetworkError``.

One addition matters to the sender: failures that happen before any byte of the request
left this process (connection refused, DNS failure, no free connection in the pool) raise
:class:`ConnectionNotSent`, so the caller can retry them safely, whereas a read timeout
means Telegram may or may not have acted on the call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Final

import aiohttp
import aiohttp.abc
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.outbox.pacing import REQUEST_WRITTEN

__all__ = ["AiohttpRequest", "ConnectionNotSent", "NotSentTimedOut"]

_JSON_CONTENT_TYPE: Final = "application/json"


class ConnectionNotSent(NetworkError):
    """The request never reached the server: retrying it cannot cause a duplicate."""


class NotSentTimedOut(TimedOut, ConnectionNotSent):
    """A pool or connect timeout: PTB callers see ``TimedOut``, the sender sees "not sent"."""


def _sum_or_none(*values: float | None) -> float | None:
    """Add timeouts where ``None`` means "wait forever", so any ``None`` makes the sum ``None``."""
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total


class AiohttpRequest(BaseRequest):
    """``telegram.request.BaseRequest`` implemented with one ``aiohttp.ClientSession``.

    Args:
        session: a session to share. It is used as is and never closed here, because its
            owner (the composition root) also uses it for feeds. Without one, this object
            creates its own session in :meth:`initialize` and closes it in :meth:`shutdown`.
        connection_pool_size: connection limit of the owned session (ignored for a shared one,
            whose connector decides).
        read_timeout, write_timeout, connect_timeout, pool_timeout: instance defaults, used
            whenever PTB passes ``DEFAULT_NONE``; ``None`` means no limit.
        media_write_timeout: write timeout for uploads, as in ``HTTPXRequest``.

    ``connection_pool_size`` also bounds the requests in flight through this object, and
    ``pool_timeout`` is how long a request waits for one of those slots: aiohttp has no pool
    timeout of its own (its ``connect`` budget, here ``pool_timeout + connect_timeout``, only
    bounds waiting on a shared connector that other users keep busy). aiohttp has no write
    timeout either, so it is folded into an overall budget for the whole exchange (the sum
    of all four, when all are finite).
    """

    __slots__ = (
        "_connect_timeout",
        "_connection_pool_size",
        "_default_timeout",
        "_media_write_timeout",
        "_owns_session",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_slots",
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
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._default_timeout = self._client_timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout
        )

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB adds to the long-polling ``timeout``."""
        return self._read_timeout

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use (``None`` before :meth:`initialize` when this object owns it)."""
        return self._session

    @property
    def owns_session(self) -> bool:
        """Whether :meth:`shutdown` closes the session."""
        return self._owns_session

    async def initialize(self) -> None:
        """Create the owned session (again, after a shutdown); a shared one is left alone.

        The slot semaphore is made afresh too, as it binds to the event loop that first
        waits on it and a request object may be initialized again under another loop.
        """
        self._slots = asyncio.Semaphore(self._connection_pool_size)
        if self._owns_session and (self._session is None or self._session.closed):
            connector = aiohttp.TCPConnector(limit=self._connection_pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the owned session; a shared session belongs to its creator."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

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
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        has_files = request_data is not None and request_data.contains_files
        timeout = self._resolve_timeout(
            has_files, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        headers, data = self._encode_body(request_data, has_files)
        slots = self._slots  # released on this very object even if initialize() replaces it
        await self._acquire_slot(slots, pool_timeout)
        try:
            return await self._send(session, method, url, headers, data, timeout)
        finally:
            slots.release()

    async def _acquire_slot(self, slots: asyncio.Semaphore, pool_timeout: ODVInput[float]) -> None:
        """Wait at most ``pool_timeout`` for a free slot; not waiting at all is the fast path."""
        if not slots.locked():
            await slots.acquire()
            return
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        try:
            async with asyncio.timeout(pool_timeout):
                await slots.acquire()
        except TimeoutError as err:
            raise NotSentTimedOut(
                "Pool timeout: all connections in the connection pool are occupied. "
                "Request was *not* sent to Telegram."
            ) from err

    @staticmethod
    async def _send(
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | aiohttp.Payload | aiohttp.FormData | None,
        client_timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        """One HTTP exchange, with aiohttp's failures translated to PTB's exceptions."""
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=client_timeout,
                raise_for_status=False,
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise NotSentTimedOut(
                f"Connect timeout: {err}. Request was *not* sent to Telegram."
            ) from err
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientConnectorError as err:
            raise ConnectionNotSent(_not_sent_message(err)) from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err

    def _resolve_timeout(
        self,
        has_files: bool,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        """Replace ``DEFAULT_NONE`` by instance defaults; all defaults reuse one prebuilt object."""
        all_default = (
            isinstance(read_timeout, DefaultValue)
            and isinstance(write_timeout, DefaultValue)
            and isinstance(connect_timeout, DefaultValue)
            and isinstance(pool_timeout, DefaultValue)
        )
        if all_default and not has_files:
            return self._default_timeout
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if has_files else self._write_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        return self._client_timeout(read_timeout, write_timeout, connect_timeout, pool_timeout)

    @staticmethod
    def _client_timeout(
        read_timeout: float | None,
        write_timeout: float | None,
        connect_timeout: float | None,
        pool_timeout: float | None,
    ) -> aiohttp.ClientTimeout:
        """Map PTB's four timeouts onto aiohttp's (see the class docstring)."""
        return aiohttp.ClientTimeout(
            total=_sum_or_none(read_timeout, write_timeout, connect_timeout, pool_timeout),
            connect=_sum_or_none(pool_timeout, connect_timeout),
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )

    def _encode_body(
        self, request_data: RequestData | None, has_files: bool
    ) -> tuple[dict[str, str], bytes | aiohttp.Payload | aiohttp.FormData | None]:
        """Encode parameters as one JSON body, or multipart when files are attached.

        The Bot API accepts JSON for every call without files. Encoding PTB's parameters in
        one ``json.dumps`` (C code) costs a fraction of a urlencoded form, whose quoting is
        pure Python character by character: with a summary of a few hundred characters, the
        form alone took longer than the rest of the request.
        """
        if request_data is None:
            return {"User-Agent": self.USER_AGENT}, None
        if not has_files:
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            written = REQUEST_WRITTEN.get()
            if written is not None:  # a paced send: the pacer learns when it left
                stamped = _StampedBody(body, written)
                return {"User-Agent": self.USER_AGENT, "Content-Type": _JSON_CONTENT_TYPE}, stamped
            return {"User-Agent": self.USER_AGENT, "Content-Type": _JSON_CONTENT_TYPE}, body
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mimetype)
        return {"User-Agent": self.USER_AGENT}, form


class _StampedBody(aiohttp.BytesPayload):
    """A JSON body that tells the pacer when it was written out to the connection: the
    moment from which Telegram's one-second window can hold the request (``bot.outbox.pacing``)."""

    def __init__(self, value: bytes, written: Callable[[], None]) -> None:
        super().__init__(value, content_type=_JSON_CONTENT_TYPE)
        self._written = written

    async def write_with_length(
        self, writer: aiohttp.abc.AbstractStreamWriter, content_length: int | None
    ) -> None:
        await super().write_with_length(writer, content_length)
        self._written()


def _not_sent_message(err: aiohttp.ClientConnectorError) -> str:
    """Describe a failure to connect; refusals start with "Connection refused" as promised."""
    if isinstance(err.os_error, ConnectionRefusedError):
        return f"Connection refused by {err.host}:{err.port}. Request was *not* sent."
    return f"Cannot connect ({err.__class__.__name__}: {err}). Request was *not* sent."
