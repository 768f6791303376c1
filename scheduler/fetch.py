"""Fetch feed documents over HTTP(S) or from local files, within hard limits.

The fetcher owns HTTP for ingestion (DESIGN.md decision 7): feedparser only ever
sees the bytes returned here. Every fetch is bounded in time (connect and total,
even against a server that trickles one byte at a time), in size (streamed, cut at
``max_bytes``), in redirect hops, and in concurrent requests per host, so one bad
site cannot stall or starve the poller.

Outcomes are split in two on purpose:

- the server answered: a :class:`FetchResult`, whatever the status (the caller
  decides: 304 keeps the state, 410 disables the feed, 429/503 wait
  ``retry_after``);
- no usable answer (timeout, refused, TLS, too large, too many redirects, broken
  compression, bad URL): :class:`FetchError` with a short human ``reason``. Nothing
  else escapes :meth:`Fetcher.fetch` (task cancellation still propagates).

With an :class:`~bot.net.guard.OutboundGuard` (as the application builds it), every
hop, redirects included, is first matched against the outbound policy: an origin
the operator named goes through the given session; any other URL must be on one of
the outlet's hosts and goes through the guard's session, whose connections to
non-public addresses are refused after DNS resolution. A refusal is a
:class:`FetchRefused`, logged once per host by the guard.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.net.guard import OutboundGuard, address_refusal
from scheduler.fetch_errors import FetchError, FetchRefused, failure_reason, short_reason, size_text
from scheduler.fetch_files import file_content_type, file_path, read_file
from scheduler.fetch_headers import header_safe, parse_max_age, parse_retry_after

__all__ = [
    "DEFAULT_USER_AGENT",
    "FEED_ACCEPT",
    "FetchError",
    "FetchLimits",
    "FetchRefused",
    "FetchResult",
    "Fetcher",
    "parse_max_age",
    "parse_retry_after",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
DEFAULT_USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch; tests shrink them, production keeps the defaults."""

    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 4
    retry_after_cap: float = 3600


@dataclass(frozen=True)
class FetchResult:
    """What the server answered (any status but a followed redirect).

    ``etag`` and ``last_modified`` are the validators to send next time: on a 304
    that omits them, the ones sent with the request are returned, so storing them
    back never loses them. ``permanent_redirect`` is the final URL when every hop
    was a 301/308 *and* the final answer was a success (2xx or 304): a permanent
    redirect to a dead page is no reason to forget the stored URL.
    ``max_age`` is the server's ``Cache-Control`` freshness, uncapped: callers use
    it as a floor on the poll interval and cap it themselves.
    """

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    etag: str | None
    last_modified: str | None
    not_modified: bool
    permanent_redirect: str | None
    retry_after: float | None
    max_age: int | None


class Fetcher:
    """Fetches through one shared :class:`aiohttp.ClientSession`, guarded when given a guard.

    ``session`` reaches the origins the operator named (it is the one the Bot API
    uses); without ``guard`` it is used for everything (tests of the fetcher itself).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        limits: FetchLimits = FetchLimits(),
        user_agent: str = DEFAULT_USER_AGENT,
        guard: OutboundGuard | None = None,
    ) -> None:
        self._session = session
        self._guard = guard
        self._limits = limits
        self._user_agent = user_agent
        self._host_slots: dict[tuple[str, int | None], asyncio.Semaphore] = {}

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResult:
        """Fetch ``url`` conditionally; raise only :class:`FetchError`."""
        try:
            target = _parse_url(url)
            if target.scheme == "file":
                if self._guard is not None and not self._guard.policy.names_file(url):
                    raise self._refused("file://", "only the catalog's own file:// feeds are read")
                return await self._fetch_file(target, last_modified)
            return await self._fetch_http(target, etag, last_modified, accept)
        except FetchError as exc:
            exc.url = exc.url or url
            raise
        except Exception as exc:  # every failure mode becomes one clear reason
            raise FetchError(failure_reason(exc, self._limits), url=url) from exc

    def _session_for(self, target: URL) -> aiohttp.ClientSession:
        """The session for one hop: the operator's, the guarded one, or a refusal."""
        guard = self._guard
        if guard is None or guard.policy.trusts(target):
            return self._session
        reason = guard.policy.refusal(target)
        if reason is not None:
            raise self._refused(target.host or "", reason)
        return guard.session

    def _refused(self, host: str, reason: str) -> FetchRefused:
        if self._guard is not None:
            self._guard.tell(host, reason)
        return FetchRefused(f"refused: {short_reason(reason)}")

    # --- http(s) ------------------------------------------------------------------------

    async def _fetch_http(
        self, target: URL, etag: str | None, last_modified: str | None, accept: str
    ) -> FetchResult:
        """Follow redirects by hand: count hops, catch loops, know if all were permanent."""
        headers = self._request_headers(etag, last_modified, accept)
        deadline: float | None = None
        visited = {str(target)}
        all_permanent = True
        for hops in range(self._limits.max_redirects + 1):
            async with self._host_slot(target):
                if deadline is None:  # waiting for a slot is not the server's fault
                    deadline = asyncio.get_running_loop().time() + self._limits.total_timeout
                async with asyncio.timeout_at(deadline):
                    outcome = await self._guarded_hop(target, headers, etag, last_modified)
            if isinstance(outcome, FetchResult):
                return _with_redirect(outcome, permanent=hops > 0 and all_permanent)
            status, target = outcome
            all_permanent = all_permanent and status in _PERMANENT_REDIRECTS
            if str(target) in visited:
                raise FetchError(f"redirect loop at {target}")
            visited.add(str(target))
        raise FetchError(f"too many redirects (more than {self._limits.max_redirects})")

    def _host_slot(self, target: URL) -> asyncio.Semaphore:
        key = ((target.host or "").lower(), target.port)
        slot = self._host_slots.get(key)
        if slot is None:
            slot = self._host_slots[key] = asyncio.Semaphore(self._limits.per_host)
        return slot

    def _request_headers(
        self, etag: str | None, last_modified: str | None, accept: str
    ) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": accept}
        if header_safe(etag):
            headers["If-None-Match"] = str(etag)
        if header_safe(last_modified):
            headers["If-Modified-Since"] = str(last_modified)
        return headers

    async def _guarded_hop(
        self,
        target: URL,
        headers: Mapping[str, str],
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult | tuple[int, URL]:
        """One hop; a connection the guard refused becomes :class:`FetchRefused`."""
        try:
            return await self._one_hop(target, headers, etag, last_modified)
        except aiohttp.ClientError as exc:
            refused = address_refusal(exc)
            if refused is None:
                raise
            raise self._refused(target.host or "", str(refused)) from exc

    async def _one_hop(
        self,
        target: URL,
        headers: Mapping[str, str],
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult | tuple[int, URL]:
        """One request: a final result, or ``(status, next URL)`` for a redirect."""
        limits = self._limits
        timeout = aiohttp.ClientTimeout(
            total=limits.total_timeout,
            connect=limits.connect_timeout,
            sock_connect=limits.connect_timeout,
            sock_read=limits.total_timeout,
        )
        async with self._session_for(target).get(
            target,
            headers=headers,
            allow_redirects=False,
            timeout=timeout,
            auto_decompress=True,
        ) as response:
            location = response.headers.get("Location")
            if response.status in _REDIRECTS and location:
                return response.status, _redirect_target(target, location)
            return await self._result(response, target, etag, last_modified)

    async def _result(
        self,
        response: aiohttp.ClientResponse,
        target: URL,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        headers = response.headers
        not_modified = response.status == 304
        body = b"" if not_modified else await _read_capped(response, self._limits.max_bytes)
        retry_after = None
        if response.status in _RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(
                headers.get("Retry-After"), now=datetime.now(UTC), cap=self._limits.retry_after_cap
            )
        return FetchResult(
            url=str(target),
            status=response.status,
            body=body,
            headers=headers,
            etag=headers.get("ETag") or (etag if not_modified else None),
            last_modified=headers.get("Last-Modified") or (last_modified if not_modified else None),
            not_modified=not_modified,
            permanent_redirect=None,
            retry_after=retry_after,
            max_age=parse_max_age(headers.get("Cache-Control")),
        )

    # --- file:// --------------------------------------------------------------------------

    async def _fetch_file(self, target: URL, last_modified: str | None) -> FetchResult:
        """Read a local sample feed off the event loop; its mtime acts as Last-Modified."""
        path = file_path(target)
        async with asyncio.timeout(self._limits.total_timeout):
            body, mtime = await asyncio.to_thread(read_file, path, self._limits.max_bytes)
        stamp = email.utils.formatdate(mtime, usegmt=True)
        not_modified = last_modified == stamp
        headers = CIMultiDict({"Content-Type": file_content_type(path), "Last-Modified": stamp})
        return FetchResult(
            url=str(target),
            status=304 if not_modified else 200,
            body=b"" if not_modified else body,
            headers=CIMultiDictProxy(headers),
            etag=None,
            last_modified=stamp,
            not_modified=not_modified,
            permanent_redirect=None,
            retry_after=None,
            max_age=None,
        )


def _parse_url(url: str) -> URL:
    try:
        target = URL(url.strip())
    except (TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL ({exc})") from exc
    scheme = target.scheme.lower()
    if scheme == "file":
        return target
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme or '(none)'!r}")
    if not target.host:
        raise FetchError("invalid URL (no host)")
    return target


def _redirect_target(current: URL, location: str) -> URL:
    """Resolve ``Location``; a redirect may never leave http(s) (no file:// tricks)."""
    try:
        target = current.join(URL(location.strip()))
    except (TypeError, ValueError) as exc:
        raise FetchError(f"invalid redirect target {location[:80]!r}") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(f"redirect to unsupported URL {location[:80]!r}")
    return target


def _with_redirect(result: FetchResult, *, permanent: bool) -> FetchResult:
    success = 200 <= result.status < 300 or result.not_modified
    if not (permanent and success):
        return result
    return replace(result, permanent_redirect=result.url)


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Stream the (decompressed) body and stop as soon as it passes ``max_bytes``."""
    announced = response.content_length
    if announced is not None and announced > max_bytes:
        raise FetchError(f"body larger than {size_text(max_bytes)} (announced {announced} bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"body larger than {size_text(max_bytes)}")
        chunks.append(chunk)
    return b"".join(chunks)
