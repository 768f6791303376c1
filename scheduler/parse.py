"""Turn a fetched feed document into :class:`bot.domain.ParsedFeed`.

feedparser does the format work (RSS 0.9x/1.0/2.0, Atom, RDF, broken XML, odd
encodings). This module gives it bytes plus the response headers (never a URL, see
DESIGN.md decision 7), guards it against entity expansion, and maps its loose
dictionaries onto the typed, plain-text-where-it-matters :class:`FeedEntry`
(:mod:`scheduler.feed_entries`); the guard is :mod:`scheduler.entity_guard`.

Error policy, in one place:

- ``error is None``: a clean document (an empty channel is clean, with no entries).
- ``error`` set and ``entries`` not empty: feedparser flagged the document as
  malformed but entries were recovered; they are kept and usable, and the error
  starts with :data:`WARNING_PREFIX` (log it, do not fail the poll).
- ``error`` set and no ``entries``: nothing usable came out (empty body, not a feed,
  refused document, malformed beyond repair, parser failure). :func:`is_failure`.

``parse_feed`` is synchronous and CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.domain import FeedEntry, ParsedFeed
from scheduler.charset import codec_name, decode, header_charset, xml_charset
from scheduler.entity_guard import entity_refusal
from scheduler.feed_entries import detail_text, feed_entries, http_url

WARNING_PREFIX = "warning: "

# A feed asking to be polled less often than daily is almost certainly misconfigured.
MAX_TTL_SECONDS = 24 * 3600
_ERROR_TEXT_LIMIT = 160

_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*encoding\s*=\s*["'])[\w.:-]+(["'])""")


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse ``body`` fetched from ``url`` with response ``headers``; never raises.

    ``url`` is the final URL after redirects: relative links resolve against it
    (or against a ``Content-Location`` header when the server sent one).
    """
    try:
        return _parse(body, headers, url)
    except Exception as exc:  # hostile input must never take the poller down
        return _failed(f"parser failed: {type(exc).__name__}: {exc}")


def is_failure(parsed: ParsedFeed) -> bool:
    """True when the document yielded nothing usable (not merely a warning)."""
    return parsed.error is not None and not parsed.entries


def _parse(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    if not body.strip():
        return _failed("empty document")
    readable = _in_utf8_if_mislabelled(body, headers)
    if readable is None:
        label = header_charset(_header(headers, "content-type")) or xml_charset(body)
        return _failed(f"text in no known encoding (declared {label or 'none'})")
    body, headers = readable
    refusal = entity_refusal(body)
    if refusal:
        return _failed(refusal)
    base = _base_url(headers, url)
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=_response_headers(headers, base, body),
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    feed = result.get("feed", {})
    language = str(feed.get("language") or "")
    found = tuple(feed_entries(result.get("entries", []), base, language))
    entries = tuple(entry for entry in found if not _undecodable(entry))
    title = detail_text(feed, "title")
    return ParsedFeed(
        title=title,
        entries=entries,
        error=_with_skipped(_error_text(result, entries, title), len(found) - len(entries)),
        ttl_seconds=_ttl_seconds(feed),
        link=http_url(feed.get("link"), base),
        generator=_generator(feed),
    )


def _in_utf8_if_mislabelled(
    body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, Mapping[str, str]] | None:
    """The document as feedparser should see it: unchanged when its label is right,
    else re-encoded in UTF-8 and labelled so (:mod:`scheduler.charset`); ``None``
    when its bytes fit no encoding."""
    if not body.lstrip(b" \t\r\n").startswith(b"<"):
        return body, headers  # BOM, UTF-16/32 or EBCDIC: feedparser sniffs those itself
    content_type = _header(headers, "content-type")
    declared = header_charset(content_type) or xml_charset(body)
    decoded = decode(body, declared)
    if decoded is None:
        return None
    if not decoded.lossy and decoded.encoding in ("ascii", codec_name(declared) or "utf-8"):
        return body, headers
    text = _XML_DECL_ENCODING.sub(r"\g<1>utf-8\g<2>", decoded.text.lstrip("\ufeff"), count=1)
    base_type = content_type.split(";", 1)[0].strip() or "application/xml"
    relabelled = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    relabelled["Content-Type"] = f"{base_type}; charset=utf-8"
    return text.encode("utf-8"), relabelled


def _undecodable(entry: FeedEntry) -> bool:
    """An item whose text carries U+FFFD (bytes no encoding could read) is not posted."""
    return any("\ufffd" in text for text in (entry.title, entry.summary_html, entry.content_html))


def _with_skipped(error: str | None, skipped: int) -> str | None:
    if not skipped:
        return error
    note = f"{skipped} item{'s' if skipped != 1 else ''} skipped: undecodable text"
    if error is None:
        return f"{WARNING_PREFIX}{note}"
    return _short(f"{error}; {note}")


def _generator(feed: Mapping[str, Any]) -> str:
    """RSS ``<generator>`` text, or Atom's text and ``uri`` together."""
    detail = feed.get("generator_detail")
    href = detail.get("href") if isinstance(detail, Mapping) else None
    parts = [str(feed.get("generator") or ""), str(href or "")]
    return " ".join(p.strip() for p in parts if p and p.strip())[:200]


def _failed(message: str) -> ParsedFeed:
    return ParsedFeed(title="", entries=(), error=_short(message))


def _short(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= _ERROR_TEXT_LIMIT else flat[: _ERROR_TEXT_LIMIT - 1] + "…"


def _base_url(headers: Mapping[str, str], url: str) -> str:
    location = _header(headers, "content-location")
    return urljoin(url, location) if location else url


def _header(headers: Mapping[str, str], name: str) -> str:
    """Look a header up case-insensitively even in a plain ``dict``."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return str(value).strip() if value is not None else ""


def _response_headers(headers: Mapping[str, str], base: str, body: bytes) -> dict[str, str]:
    """The headers feedparser needs: without ``content-type`` it flags good feeds.

    ``text/xml`` without a charset is US-ASCII to feedparser (RFC 3023), so every UTF-8
    feed a server labels so (Python's and aiohttp's default for ``.xml`` files) would be
    "malformed" on every poll; RFC 7303, which replaced it, lets the XML declaration
    decide, and so does this: the declared encoding (UTF-8 by default) is made explicit.
    """
    content_type = _header(headers, "content-type") or "application/xml"
    if content_type.lower().startswith("text/") and not header_charset(content_type):
        content_type = f"{content_type}; charset={xml_charset(body) or 'utf-8'}"
    chosen = {"content-type": content_type, "content-location": base}
    language = _header(headers, "content-language")
    if language:
        chosen["content-language"] = language
    return chosen


def _ttl_seconds(feed: Mapping[str, Any]) -> int | None:
    """RSS ``<ttl>`` (minutes) in seconds, capped.

    ``sy:updatePeriod`` is deliberately ignored: WordPress emits "hourly" on every
    feed whatever the site's cadence, so honouring it would delay news by an hour.
    """
    text = str(feed.get("ttl") or "").strip()
    if not text.isdigit() or len(text) > 9:
        return None
    seconds = int(text) * 60
    return min(seconds, MAX_TTL_SECONDS) if seconds else None


def _error_text(
    result: Mapping[str, Any], entries: tuple[FeedEntry, ...], title: str
) -> str | None:
    """Apply the error policy in the module docstring."""
    if not result.get("bozo"):
        recognised = result.get("version") or entries or title
        return None if recognised else "not a feed: no RSS or Atom element found"
    reason = str(result.get("bozo_exception") or "malformed document")
    if entries:
        return _short(f"{WARNING_PREFIX}malformed feed, {len(entries)} entries kept ({reason})")
    return _short(f"not a feed: {reason}")
