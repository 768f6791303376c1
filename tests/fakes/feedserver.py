"""A real local HTTP server that publishes feeds, for ingestion tests.

Tests register what each path answers (a feed with validators, a redirect, a hang,
a slow trickle, a huge body) and then point the real fetcher at ``server.url(path)``.
Conditional GET is implemented for real, so 304 round trips are exercised end to end.
It only ever listens on loopback.

    async with FeedServer() as server:
        server.set_feed("/feed", rss_feed([{"title": "One", "link": "https://x/1"}]), etag='"v1"')
        result = await fetcher.fetch(server.url("/feed"))
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web
from multidict import CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent, for assertions on request headers."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]


@dataclass
class _Feed:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    status: int
    headers: dict[str, str]
    delay: float
    validators_on_304: bool


class FeedServer:
    """Async context manager running an aiohttp server on ``127.0.0.1`` (random port).

    ``hits[path]`` counts requests per path, ``requests`` records them in order,
    ``max_active`` is the highest number of requests handled at the same time.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.active = 0
        self.max_active = 0
        self._routes: dict[str, Handler] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # wakes hanging and trickling handlers
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str, *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host="localhost"`` reaches the same server by name."""
        return f"http://{host or self.host}:{self._port}{path}"

    # --- routes ---------------------------------------------------------------------------

    def set_feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = RSS_TYPE,
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        validators_on_304: bool = True,
    ) -> None:
        """Serve ``body`` at ``path``; answer 304 when the client's validators match.

        ``delay`` holds each response that long (to measure concurrency);
        ``validators_on_304=False`` sends a bare 304, as some servers do.
        """
        feed = _Feed(
            body,
            content_type,
            etag,
            last_modified,
            status,
            dict(headers or {}),
            delay,
            validators_on_304,
        )
        self._routes[path] = lambda request: self._serve_feed(request, feed)

    def set_redirect(self, path: str, target: str, status: int = 301) -> None:
        """Redirect ``path`` to ``target`` (a path on this server or an absolute URL)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": target})

        self._routes[path] = handler

    def set_hang(self, path: str) -> None:
        """Accept the request and never answer (until the server stops)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            await self._stopping.wait()
            return web.Response(status=204)

        self._routes[path] = handler

    def set_slowloris(self, path: str, *, interval: float = 0.05) -> None:
        """Send headers, then one byte every ``interval`` seconds, forever."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
            await response.prepare(request)
            with contextlib.suppress(ConnectionError):
                while not self._stopping.is_set():
                    await response.write(b" ")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), interval)
            return response

        self._routes[path] = handler

    def set_huge(self, path: str, size: int, *, announce: int | None = None) -> None:
        """Stream ``size`` bytes; ``announce`` sends that Content-Length instead of chunking."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
            if announce is not None:
                response.content_length = announce
                response.force_close()  # a short body ends with the connection, as in the wild
            await response.prepare(request)
            chunk = b"<!-- padding -->" * 4096
            sent = 0
            with contextlib.suppress(ConnectionError):
                while sent < size:
                    piece = chunk[: size - sent]
                    await response.write(piece)
                    sent += len(piece)
            return response

        self._routes[path] = handler

    def set_handler(self, path: str, handler: Handler) -> None:
        """Anything else: a raw aiohttp handler."""
        self._routes[path] = handler

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        self.requests.append(RecordedRequest(request.method, path, request.headers))
        handler = self._routes.get(path)
        if handler is None:
            return web.Response(status=404, text="no such feed")
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            return await handler(request)
        finally:
            self.active -= 1

    async def _serve_feed(self, request: web.Request, feed: _Feed) -> web.StreamResponse:
        if feed.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), feed.delay)
        validators = {}
        if feed.etag:
            validators["ETag"] = feed.etag
        if feed.last_modified:
            validators["Last-Modified"] = feed.last_modified
        if feed.status == 200 and _not_modified(request, feed):
            return web.Response(status=304, headers=validators if feed.validators_on_304 else {})
        headers = {"Content-Type": feed.content_type, **validators, **feed.headers}
        return web.Response(status=feed.status, body=feed.body, headers=headers)


def _not_modified(request: web.Request, feed: _Feed) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if not feed.etag:
            return False
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or feed.etag.removeprefix("W/") in wanted
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or not feed.last_modified:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
        modified = email.utils.parsedate_to_datetime(feed.last_modified)
    except (TypeError, ValueError):
        return False
    return modified <= since


# --- feed builders ----------------------------------------------------------------------------

_RSS_NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


def http_date(when: datetime) -> str:
    """RFC 9110 date, as used in Last-Modified, Retry-After and RSS pubDate."""
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


def rss_feed(
    items: Sequence[Mapping[str, Any]],
    title: str = "Test feed",
    *,
    link: str = "https://news.example/",
    ttl: int | None = None,
    language: str | None = None,
    update_period: str | None = None,
    update_frequency: int | None = None,
    generator: str | None = None,
) -> bytes:
    """An RSS 2.0 document in UTF-8.

    Item keys (all optional): ``title``, ``link``, ``guid``, ``guid_is_permalink``
    (bool), ``description``, ``categories`` (list of str), ``pubDate`` (datetime or
    str), ``content:encoded`` (or ``content``), ``author`` (``dc:creator``),
    ``post_id`` (WordPress ``<post-id>``), ``media`` (a ``media:content`` image URL),
    ``enclosure`` (``(url, type)``), ``thumbnail`` (``media:thumbnail``). Text is
    escaped; HTML in ``description`` is escaped as RSS requires and ``content:encoded``
    goes in CDATA.
    """
    channel = [
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        "<description>Test channel</description>",
    ]
    if language:
        channel.append(f"<language>{escape(language)}</language>")
    if generator:
        channel.append(f"<generator>{escape(generator)}</generator>")
    if ttl is not None:
        channel.append(f"<ttl>{ttl}</ttl>")
    if update_period:
        channel.append(f"<sy:updatePeriod>{escape(update_period)}</sy:updatePeriod>")
    if update_frequency is not None:
        channel.append(f"<sy:updateFrequency>{update_frequency}</sy:updateFrequency>")
    channel.extend(_rss_item(item) for item in items)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" {_RSS_NAMESPACES}>\n<channel>\n'
        + "\n".join(channel)
        + "\n</channel>\n</rss>\n"
    )
    return document.encode("utf-8")


def wordpress_feed(
    items: Sequence[Mapping[str, Any]],
    title: str = "News site",
    *,
    site: str = "https://news.example",
    language: str = "en-US",
    generator: str | None = None,
) -> bytes:
    """An RSS feed shaped like WordPress's ``/feed/`` (``generator``: WordPress's
    ``https://wordpress.org/?v=…``, left out unless given).

    Items with ``post_id`` and no ``guid`` get WordPress's ``<site>/?p=<id>`` guid
    (not a permalink); an item without ``link`` gets ``<site>/<id>/``. The channel
    carries ``sy:updatePeriod`` hourly, as WordPress does.
    """
    shaped = []
    for item in items:
        shaped_item = dict(item)
        post_id = item.get("post_id")
        if post_id is not None:
            shaped_item.setdefault("guid", f"{site}/?p={post_id}")
            shaped_item.setdefault("guid_is_permalink", False)
            shaped_item.setdefault("link", f"{site}/{post_id}/")
            shaped_item.pop("post_id")
        shaped.append(shaped_item)
    return rss_feed(
        shaped,
        title,
        link=f"{site}/",
        language=language,
        update_period="hourly",
        update_frequency=1,
        generator=generator,
    )


def _rss_item(item: Mapping[str, Any]) -> str:
    parts = ["<item>"]
    for key, tag in (("title", "title"), ("link", "link"), ("author", "dc:creator")):
        if item.get(key) is not None:
            parts.append(f"<{tag}>{escape(str(item[key]))}</{tag}>")
    if item.get("guid") is not None:
        permalink = "true" if item.get("guid_is_permalink", True) else "false"
        parts.append(f'<guid isPermaLink="{permalink}">{escape(str(item["guid"]))}</guid>')
    if item.get("description") is not None:
        parts.append(f"<description>{escape(str(item['description']))}</description>")
    parts.extend(f"<category>{escape(term)}</category>" for term in item.get("categories", ()))
    published = item.get("pubDate")
    if published is not None:
        text = http_date(published) if isinstance(published, datetime) else str(published)
        parts.append(f"<pubDate>{escape(text)}</pubDate>")
    content = item.get("content:encoded", item.get("content"))
    if content is not None:
        parts.append(f"<content:encoded>{_cdata(str(content))}</content:encoded>")
    if item.get("media") is not None:
        parts.append(f'<media:content url={quoteattr(str(item["media"]))} medium="image"/>')
    if item.get("enclosure") is not None:
        url, kind = item["enclosure"]
        parts.append(f'<enclosure url={quoteattr(url)} type={quoteattr(kind)} length="1000"/>')
    if item.get("thumbnail") is not None:
        parts.append(f"<media:thumbnail url={quoteattr(str(item['thumbnail']))}/>")
    if item.get("post_id") is not None:
        parts.append(
            f'<post-id xmlns="com-wordpress:feed-additions:1">{int(item["post_id"])}</post-id>'
        )
    parts.append("</item>")
    return "\n".join(parts)


def atom_feed(
    entries: Sequence[Mapping[str, Any]],
    title: str = "Test feed",
    *,
    link: str = "https://news.example/",
    language: str | None = None,
) -> bytes:
    """An Atom 1.0 document in UTF-8.

    Entry keys: ``id``, ``title``, ``link``, ``alternates`` (list of ``(lang, href)``,
    emitted as ``link rel="alternate" hreflang``), ``summary`` and ``content`` (HTML),
    ``updated``/``published`` (datetime), ``author``, ``categories``.
    """
    lang = f" xml:lang={quoteattr(language)}" if language else ""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>',
        f"<title>{escape(title)}</title>",
        f"<link href={quoteattr(link)}/>",
        f"<id>{escape(link)}</id>",
        "<updated>2025-01-01T00:00:00Z</updated>",
    ]
    parts.extend(_atom_entry(entry) for entry in entries)
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


def _atom_entry(entry: Mapping[str, Any]) -> str:
    parts = ["<entry>"]
    if entry.get("id") is not None:
        parts.append(f"<id>{escape(str(entry['id']))}</id>")
    if entry.get("title") is not None:
        parts.append(f"<title>{escape(str(entry['title']))}</title>")
    if entry.get("link") is not None:
        parts.append(f'<link rel="alternate" href={quoteattr(str(entry["link"]))}/>')
    for lang, href in entry.get("alternates", ()):
        parts.append(f'<link rel="alternate" hreflang={quoteattr(lang)} href={quoteattr(href)}/>')
    for key in ("updated", "published"):
        value = entry.get(key)
        if isinstance(value, datetime):
            parts.append(f"<{key}>{value.astimezone(UTC).isoformat()}</{key}>")
    if entry.get("author") is not None:
        parts.append(f"<author><name>{escape(str(entry['author']))}</name></author>")
    for key in ("summary", "content"):
        if entry.get(key) is not None:
            parts.append(f'<{key} type="html">{escape(str(entry[key]))}</{key}>')
    parts.extend(f"<category term={quoteattr(term)}/>" for term in entry.get("categories", ()))
    parts.append("</entry>")
    return "\n".join(parts)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
