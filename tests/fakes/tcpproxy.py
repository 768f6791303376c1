"""A TCP proxy on loopback that can go silent or drop: the two ways a network between
the bot and PostgreSQL fails.

Between a bot process and PostgreSQL it forwards bytes both ways. ``freeze()`` stops
forwarding while both of its sockets stay open: the bot's writes are buffered, nothing
comes back, the server sees an idle client whose keepalives the proxy's kernel answers,
so neither end notices anything but silence (the partition poolers make). ``thaw()``
delivers what was held back, in order, as a healed network would.

``drop(refuse_for)`` is the loud failure: a restarted pooler or a failed-over address.
Every live connection is reset on both sides (RST, nothing held back is delivered) and
for ``refuse_for`` seconds each new connection is reset as soon as it is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from types import TracebackType

_CHUNK = 65536


class SilentProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self._refuse_until = 0.0  # loop time; new connections are reset until then
        self.port = 0
        self.connections = 0  # accepted so far
        self.resets = 0  # connections reset by drop() or refused after it

    async def __aenter__(self) -> SilentProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def freeze(self) -> None:
        """Stop forwarding in both directions; every socket stays open."""
        self._open.clear()

    def thaw(self) -> None:
        """Forward again, starting with what was held back."""
        self._open.set()

    @property
    def frozen(self) -> bool:
        return not self._open.is_set()

    def drop(self, refuse_for: float = 0.0) -> int:
        """Reset every live connection on both sides, and each new one for ``refuse_for``
        seconds; returns how many sockets were reset now."""
        self._refuse_until = asyncio.get_running_loop().time() + refuse_for
        writers = list(self._writers)
        for writer in writers:
            _reset(writer)
        self._writers.clear()
        self.resets += len(writers)
        return len(writers)

    @property
    def refusing(self) -> bool:
        return asyncio.get_running_loop().time() < self._refuse_until

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.refusing:
            self.resets += 1
            _reset(client_w)
            return
        await self._open.wait()  # a new connection made during a freeze hangs too
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        if self.refusing:  # dropped while this connection was being made
            self.resets += 1
            _reset(client_w)
            _reset(server_w)
            return
        self._writers |= {client_w, server_w}
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            pump = asyncio.create_task(self._pump(reader, writer))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction; while frozen, hold the chunk read and read no more."""
        try:
            while chunk := await reader.read(_CHUNK):
                await self._open.wait()
                writer.write(chunk)
                await writer.drain()
            await self._open.wait()  # even a close waits for the network to heal
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close at once with an RST (linger 0), as a dead middlebox does: the peer's next
    read or write fails with "connection reset" instead of waiting."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
