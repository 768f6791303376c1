"""Why a fetch gave no usable answer: :class:`FetchError` and its one-line reasons.

Every failure of :meth:`scheduler.fetch.Fetcher.fetch` ends here as a short, human reason
(timeouts name the limit that was hit; aiohttp's truncation and bad compression are told
apart), so a log line says what went wrong without a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from scheduler.fetch import FetchLimits

_REASON_LIMIT = 160


class FetchError(Exception):
    """No usable answer; ``reason`` is short enough for one log line."""

    def __init__(self, reason: str, *, url: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}" if self.url else self.reason


class FetchRefused(FetchError):
    """The outbound policy forbade the fetch (already logged once per host by the guard)."""


def size_text(size: int) -> str:
    mebibyte = 1024 * 1024
    return f"{size // mebibyte} MiB" if size % mebibyte == 0 else f"{size} bytes"


def failure_reason(exc: BaseException, limits: FetchLimits) -> str:
    """One short, human reason for a log line, from any exception."""
    return short_reason(_describe(exc, limits))


def _describe(exc: BaseException, limits: FetchLimits) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"connect timed out after {limits.connect_timeout:g} s"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return f"no data for {limits.total_timeout:g} s"
    if isinstance(exc, TimeoutError):
        return f"timed out after {limits.total_timeout:g} s"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS error: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        refused = isinstance(exc.os_error, ConnectionRefusedError)
        return "connection refused" if refused else f"cannot connect: {exc.os_error}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return _payload_problem(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection without answering"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL ({exc})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"bad HTTP response: {exc.message}"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


def _payload_problem(message: str) -> str:
    """aiohttp reports truncation and bad compression alike; tell the two apart."""
    lowered = message.lower()
    if "content-encoding" in lowered:
        return "broken response body: cannot decode its Content-Encoding"
    if "not completed" in lowered or "content-length" in lowered:
        return "broken response body: truncated before its announced length"
    return f"broken response body: {message}"


def short_reason(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _REASON_LIMIT else flat[: _REASON_LIMIT - 1] + "…"
