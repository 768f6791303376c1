"""A raw asyncio HTTP/1.1 server whose every answer is scripted bytes, for the transport
tests: it can answer in chunks, close mid-answer, go silent or send garbage, which a
well-behaved framework server will not do. It counts connections, requests and the
connections the client closed."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

#: (number of the call from 1, getMe not counted; the request's bytes; the writer)
#: -> keep the connection open? getMe is always answered with the bot, on a kept connection.
Answer = Callable[[int, bytes, asyncio.StreamWriter], Awaitable[bool]]

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "News", "username": "news_test_bot"}


def ok_bytes(result: Any, *extra_headers: str) -> bytes:
    """A complete ``{"ok": true, "result": ...}`` answer with its Content-Length."""
    body = json.dumps({"ok": True, "result": result}).encode()
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", *extra_headers]
    head.append(f"Content-Length: {len(body)}")
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


def message(chat_id: int, message_id: int = 1) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Reader"},
        "text": "x",
    }


async def answer_ok(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
    """A message numbered after the call."""
    writer.write(ok_bytes(message(1, number)))
    return True


@dataclass
class RawServer:
    answer: Answer = answer_ok
    url: str = ""
    connections: int = 0
    calls: int = 0
    client_closed: int = 0
    requests: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as err:
                    if not err.partial:
                        self.client_closed += 1
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if request.startswith(b"POST /bot") and b"/getMe " in request.split(b"\r\n")[0]:
                    writer.write(ok_bytes(BOT_USER))
                    keep = True
                else:
                    self.calls += 1
                    keep = await self.answer(self.calls, request, writer)
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def sends(self) -> list[dict[str, Any]]:
        """The JSON bodies of the sendMessage requests received."""
        return [
            json.loads(r.partition(b"\r\n\r\n")[2]) for r in self.requests if b"/sendMessage " in r
        ]


@asynccontextmanager
async def raw_server(
    answer: Answer = answer_ok, tls: ssl.SSLContext | None = None
) -> AsyncIterator[RawServer]:
    scripted = RawServer(answer)
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    scripted.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        yield scripted
    finally:
        server.close()
        await server.wait_closed()
