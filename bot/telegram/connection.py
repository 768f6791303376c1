"""One persistent HTTP/1.1 connection to the Bot API, as an ``asyncio.Protocol``.

A request is written with one ``transport.write`` of prebuilt bytes and its answer is
parsed in ``data_received`` as it arrives: no streams, no per-request objects beyond one
future and one timer. Whatever goes wrong once the request was written (the server closed,
garbage, silence past the read timeout, a cancelled caller) leaves the connection closed,
since its state is unknown; :attr:`Http1Connection.reusable` tells the pool which ones may
serve the next request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from bot.telegram.http1 import MalformedResponse, Response, ResponseParser

__all__ = ["ConnectionClosed", "Http1Connection", "ReadTimeout", "WriteTimeout"]


class ConnectionClosed(Exception):
    """The server closed the connection (or it broke) before the response was complete."""


class ReadTimeout(Exception):
    """No complete response within the read timeout."""


class WriteTimeout(Exception):
    """The request could not be handed to the kernel within the write timeout."""


class Http1Connection(asyncio.Protocol):
    """A keep-alive connection serving one request at a time."""

    __slots__ = (
        "_drained",
        "_loop",
        "_parser",
        "_waiter",
        "closed",
        "idle_since",
        "transport",
    )

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._parser = ResponseParser()
        self._waiter: asyncio.Future[Response] | None = None
        self._drained: asyncio.Future[None] | None = None  # set while writing is paused
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = time.monotonic()

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.close()  # bytes nobody asked for: the stream is out of step
            return
        try:
            response = self._parser.feed(data)
        except MalformedResponse as err:
            self._fail(err)
            return
        if response is not None:
            self._waiter = None
            if not response.keep_alive:
                self.close()
            waiter.set_result(response)

    def eof_received(self) -> bool:
        waiter = self._waiter
        self.closed = True
        if waiter is not None and not waiter.done():
            self._waiter = None
            try:
                waiter.set_result(self._parser.eof())
            except MalformedResponse as err:
                waiter.set_exception(ConnectionClosed(f"Server disconnected: {err}"))
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionClosed(f"Connection lost: {exc}" if exc else "Server disconnected"))
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # ------------------------------------------------------------ use

    @property
    def reusable(self) -> bool:
        """Open, answered in full, and nothing unexpected arrived since."""
        transport = self.transport
        return (
            not self.closed
            and self._waiter is None
            and transport is not None
            and not transport.is_closing()
            and self._parser.idle
        )

    async def exchange(
        self,
        message: bytes,
        written: Callable[[], None] | None,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> Response:
        """Write ``message`` and wait for its response; ``written`` is called once the bytes
        are handed to the kernel (the pacer's "it left" moment)."""
        transport = self.transport
        assert transport is not None and self._waiter is None
        waiter: asyncio.Future[Response] = self._loop.create_future()
        self._waiter = waiter
        try:
            transport.write(message)
            if self._drained is not None:
                await self._drain(write_timeout)
            if written is not None:
                written()
            return await self._wait(waiter, read_timeout)
        except BaseException:
            self.close()
            raise

    async def _drain(self, write_timeout: float | None) -> None:
        drained = self._drained
        assert drained is not None
        try:
            async with asyncio.timeout(write_timeout):
                await asyncio.shield(drained)
        except TimeoutError:
            raise WriteTimeout("Write timeout: the request could not be written out") from None

    async def _wait(self, waiter: asyncio.Future[Response], read_timeout: float | None) -> Response:
        if read_timeout is None:
            response = await waiter
        else:
            timer = self._loop.call_later(read_timeout, self._read_timed_out, waiter)
            try:
                response = await waiter
            finally:
                timer.cancel()
        self.idle_since = time.monotonic()
        return response

    def _read_timed_out(self, waiter: asyncio.Future[Response]) -> None:
        if not waiter.done():
            waiter.set_exception(ReadTimeout("Read timeout: no complete answer in time"))

    def _fail(self, err: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)
        self.close()

    def close(self) -> None:
        """Drop the connection (idempotent)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()
