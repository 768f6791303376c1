"""HTTP/1.1 as the Bot API speaks it, and nothing more: request bytes out, one response in.

The Bot API answers JSON calls with a short body, a ``Content-Length`` (or chunks), and
keeps the connection open. Parsing just that, strictly, costs a few microseconds; anything
else (a second response nobody asked for, a ``Content-Encoding``, a header block without
end) is a :class:`MalformedResponse`, after which the connection is not trusted again.
Pure: bytes in, a :class:`Response` out, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["MalformedResponse", "Response", "ResponseParser", "request_head"]

MAX_HEAD: Final = 64 * 1024  # bytes of status line and headers
MAX_BODY: Final = 64 * 1024 * 1024  # getUpdates with 100 large updates fits many times over
_HEAD_END: Final = b"\r\n\r\n"


class MalformedResponse(Exception):
    """The server's bytes are not an HTTP/1.x response this client can read."""


@dataclass(frozen=True, slots=True)
class Response:
    """One complete answer: status, body, and whether the connection may be used again."""

    status: int
    body: bytes
    keep_alive: bool


def request_head(target: str, host: str, user_agent: str, content_type: str | None) -> bytes:
    """Everything of a POST's head but the ``Content-Length`` value and the final blank line,
    built once per method and origin, so a request costs one concatenation."""
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {user_agent}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append("Content-Length: ")
    return "\r\n".join(lines).encode("latin-1")


class ResponseParser:
    """Reads one response at a time from the bytes of a connection, as they arrive."""

    __slots__ = ("_body", "_buffer", "_chunked", "_keep_alive", "_length", "_status")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._reset()

    def _reset(self) -> None:
        self._status = 0  # 0: still reading the head
        self._length: int | None = None  # None with _chunked False: until the end of stream
        self._chunked = False
        self._keep_alive = True
        self._body = bytearray()

    @property
    def idle(self) -> bool:
        """No byte of a response has arrived (what an idle connection must look like)."""
        return not self._buffer and self._status == 0

    def feed(self, data: bytes) -> Response | None:
        """Take ``data``; return the response once it is complete."""
        self._buffer += data
        if self._status == 0 and not self._read_head():
            return None
        if self._chunked:
            return self._read_chunks()
        if self._length is None:
            return None  # delimited by the end of the stream: see :meth:`eof`
        if len(self._buffer) < self._length:
            return None
        body = bytes(self._buffer[: self._length])
        del self._buffer[: self._length]
        return self._finish(body)

    def eof(self) -> Response:
        """The server closed the stream: the response if that is how its body ends."""
        if self._status != 0 and self._length is None and not self._chunked:
            body = bytes(self._buffer)
            self._buffer.clear()
            return self._finish(body, keep_alive=False)
        raise MalformedResponse("connection closed before the response was complete")

    def _finish(self, body: bytes, keep_alive: bool = True) -> Response:
        if self._buffer:
            raise MalformedResponse("bytes after the end of the response")
        response = Response(self._status, body, keep_alive and self._keep_alive)
        self._reset()
        return response

    def _read_head(self) -> bool:
        """Parse the status line and headers once they are all here; skip 1xx heads."""
        while True:
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise MalformedResponse("response head too long")
                return False
            head = bytes(self._buffer[:end])
            del self._buffer[: end + 4]
            status = self._parse_head(head)
            if status >= 200:
                self._status = status
                return True

    def _parse_head(self, head: bytes) -> int:
        lines = head.split(b"\r\n")
        version, status = _status_line(lines[0])
        if status < 200:
            return status
        self._keep_alive = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise MalformedResponse("malformed header line")
            self._header(name.lower(), value.strip().lower())
        if status in (204, 304):
            self._length, self._chunked = 0, False
        return status

    def _header(self, name: bytes, value: bytes) -> None:
        if name == b"content-length":
            if not value.isdigit() or (self._length is not None and self._length != int(value)):
                raise MalformedResponse("bad Content-Length")
            self._length = int(value)
            if self._length > MAX_BODY:
                raise MalformedResponse("response body too large")
        elif name == b"transfer-encoding":
            if value != b"chunked":
                raise MalformedResponse(f"unsupported Transfer-Encoding {value!r}")
            self._chunked = True
        elif name == b"connection":
            tokens = {token.strip() for token in value.split(b",")}
            if b"close" in tokens:
                self._keep_alive = False
            elif b"keep-alive" in tokens:
                self._keep_alive = True
        elif name == b"content-encoding" and value not in (b"identity", b""):
            raise MalformedResponse(f"unrequested Content-Encoding {value!r}")

    def _read_chunks(self) -> Response | None:
        """Move complete chunks into the body; the response ends at the zero chunk and its
        (ignored) trailers."""
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > MAX_HEAD:
                    raise MalformedResponse("chunk size line too long")
                return None
            size = _chunk_size(bytes(buffer[:line_end]))
            if size == 0:  # the last chunk, then trailers (ignored) up to a blank line
                end = buffer.find(_HEAD_END, line_end)
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise MalformedResponse("trailers too long")
                    return None
                del buffer[: end + 4]
                return self._finish(bytes(self._body))
            if len(buffer) < line_end + 2 + size + 2:
                return None
            start = line_end + 2
            if buffer[start + size : start + size + 2] != b"\r\n":
                raise MalformedResponse("chunk not followed by CRLF")
            self._body += buffer[start : start + size]
            if len(self._body) > MAX_BODY:
                raise MalformedResponse("response body too large")
            del buffer[: start + size + 2]


def _status_line(line: bytes) -> tuple[bytes, int]:
    """``HTTP/1.x NNN reason`` -> (version, status)."""
    version, _, rest = line.partition(b" ")
    code = rest[:3]
    if (
        version not in (b"HTTP/1.1", b"HTTP/1.0")
        or not code.isdigit()
        or rest[3:4]
        not in (
            b"",
            b" ",
        )
    ):
        raise MalformedResponse(f"not an HTTP/1.x status line: {line[:40]!r}")
    return version, int(code)


def _chunk_size(line: bytes) -> int:
    size = line.partition(b";")[0].strip()
    try:
        value = int(size, 16)
    except ValueError:
        raise MalformedResponse("bad chunk size") from None
    if value < 0 or len(size) > 16:
        raise MalformedResponse("bad chunk size")
    return value
