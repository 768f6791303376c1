"""Turn a fetched feed document into :class:`bot.domain.ParsedFeed`.

feedparser does the format work (RSS 0.9x/1.0/2.0, Atom, RDF, broken XML, odd
encodings). This module gives it bytes plus the response headers (never a URL, see
DESIGN.md decision 7), guards it against entity expansion, and maps its loose
dictionaries onto the typed, plain-text-where-it-matters :class:`FeedEntry`.

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

import calendar
import html
import io
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.domain import FeedEntry, ParsedFeed
from scheduler.charset import codec_name, decode, header_charset, xml_charset

WARNING_PREFIX = "warning: "

# Entity expansion that no real feed needs; beyond it a document is refused. feedparser
# keeps simple internal entities and its lenient fallback parser expands them without
# limit, so a 200 kB entity referenced 20 000 times would build gigabytes of text.
MAX_ENTITY_EXPANSION = 1_000_000
# A feed asking to be polled less often than daily is almost certainly misconfigured.
MAX_TTL_SECONDS = 24 * 3600
_ERROR_TEXT_LIMIT = 160

_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_WORDPRESS_GUID = re.compile(r"[?&]p=(\d{1,18})(?:&|$)")
_ENTITY_DECL = re.compile(r"<!ENTITY\s+(?!%)([^\s\"'>]+)\s+(?:\"([^\"]*)\"|'([^']*)')")
# How ``<!ENTITY`` looks in the encodings feedparser can be handed; each one is checked
# in the matching decoding, so a UTF-16 document cannot slip past the guard.
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*encoding\s*=\s*["'])[\w.:-]+(["'])""")
_DECL_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")


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
    refusal = _entity_refusal(body)
    if refusal:
        return _failed(refusal)
    base = _base_url(headers, url)
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=_response_headers(headers, base),
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    feed = result.get("feed", {})
    language = str(feed.get("language") or "")
    found = tuple(_entries(result.get("entries", []), base, language))
    entries = tuple(entry for entry in found if not _undecodable(entry))
    title = _detail_text(feed, "title")
    return ParsedFeed(
        title=title,
        entries=entries,
        error=_with_skipped(_error_text(result, entries, title), len(found) - len(entries)),
        ttl_seconds=_ttl_seconds(feed),
        link=_http_url(feed.get("link"), base),
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


def _response_headers(headers: Mapping[str, str], base: str) -> dict[str, str]:
    """The headers feedparser needs: without ``content-type`` it flags good feeds."""
    content_type = _header(headers, "content-type") or "application/xml"
    chosen = {"content-type": content_type, "content-location": base}
    language = _header(headers, "content-language")
    if language:
        chosen["content-language"] = language
    return chosen


# --- entity expansion guard -------------------------------------------------------------


def _entity_refusal(body: bytes) -> str | None:
    """Refuse documents whose internal entities would expand past the limit.

    expat itself stops recursive "billion laughs" expansions, but feedparser falls back
    to a lenient parser on any XML error and that one expands the simple entities it
    kept with no bound (quadratic blow-up). Declarations are rare in real feeds, so the
    check only decodes the document when one is present.
    """
    for encoding in _DECL_ENCODINGS:
        if "<!ENTITY".encode(encoding) not in body:
            continue
        text = body.decode(encoding, "replace")
        expansion = _entity_expansion(text)
        if expansion > MAX_ENTITY_EXPANSION:
            return (
                "document refused: its entities would expand to more than "
                f"{MAX_ENTITY_EXPANSION} characters"
            )
    return None


def _entity_expansion(text: str) -> int:
    """Characters produced by expanding every reference to a declared entity once.

    Values that reference other entities are counted with their nesting multiplied
    out, so recursive declarations are measured, not just flat ones.
    """
    declared: dict[str, str] = {}
    for match in _ENTITY_DECL.finditer(text):
        declared.setdefault(match.group(1), match.group(2) or match.group(3) or "")
    if not declared:
        return 0
    sizes: dict[str, int] = {}
    for name in declared:
        _expanded_size(name, declared, sizes, set())
    # References are counted in the whole text: slicing off the DOCTYPE could be fooled
    # (a later "]]>" looks like its end), and the declarations add only a little.
    return sum(text.count(f"&{name};") * size for name, size in sizes.items())


def _expanded_size(
    name: str, declared: dict[str, str], sizes: dict[str, int], busy: set[str]
) -> int:
    if name in sizes:
        return sizes[name]
    if name in busy:  # a cycle: expat rejects it, count it as the worst case
        return MAX_ENTITY_EXPANSION + 1
    busy.add(name)
    value = declared[name]
    size = len(value)
    for other in declared:
        count = value.count(f"&{other};")
        if count:
            size += count * _expanded_size(other, declared, sizes, busy)
            size = min(size, 10 * MAX_ENTITY_EXPANSION)
    busy.discard(name)
    sizes[name] = size
    return size


# --- mapping ----------------------------------------------------------------------------


def _entries(raw_entries: Iterable[Any], base: str, feed_language: str) -> Iterable[FeedEntry]:
    for raw in raw_entries:
        entry = _entry(raw, base, feed_language)
        if entry is not None:
            yield entry


def _entry(raw: Mapping[str, Any], base: str, feed_language: str) -> FeedEntry | None:
    """Map one feedparser entry; ``None`` when it has neither a usable link nor a guid."""
    guid = str(raw.get("id") or "").strip()
    url = _entry_link(raw, base, feed_language)
    if not url and not guid:
        return None
    content = _content_html(raw)
    summary = str(raw.get("summary") or "")
    if summary == content:  # feedparser copies content:encoded into summary when absent
        summary = ""
    return FeedEntry(
        guid=guid,
        url=url,
        title=_detail_text(raw, "title"),
        summary_html=summary,
        content_html=content,
        categories=_categories(raw),
        published=_timestamp(raw.get("published_parsed")),
        updated=_timestamp(raw.get("updated_parsed")),
        author=_author(raw),
        wp_post_id=_wordpress_post_id(raw, guid),
        alternates=_alternates(raw, base, url),
        image_url=lead_image(raw, base),
    )


def _entry_link(raw: Mapping[str, Any], base: str, feed_language: str) -> str:
    """The article link: an alternate in the entry's own language, else the first one.

    feedparser's ``link`` is the *last* alternate, which for a multilingual Atom entry
    is an arbitrary translation.
    """
    alternates = [
        link
        for link in raw.get("links") or []
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    language = _entry_language(raw) or feed_language
    for link in alternates:
        hreflang = str(link.get("hreflang") or "")
        if not hreflang or (language and _same_language(hreflang, language)):
            return _http_url(link.get("href"), base)
    if alternates:
        return _http_url(alternates[0].get("href"), base)
    return _http_url(raw.get("link"), base)


def _entry_language(raw: Mapping[str, Any]) -> str:
    detail = raw.get("title_detail") or {}
    return str(detail.get("language") or "")


def _same_language(left: str, right: str) -> bool:
    return left.lower().split("-")[0] == right.lower().split("-")[0]


def _http_url(value: Any, base: str) -> str:
    """Resolve ``value`` against ``base``; only http(s) links are usable (no javascript:)."""
    if not value:
        return ""
    try:
        resolved = urljoin(base, str(value).strip())
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return ""
    return resolved if scheme in ("http", "https") else ""


def _detail_text(raw: Mapping[str, Any], key: str) -> str:
    """Plain text of a text construct: tags stripped and entities decoded for HTML types."""
    value = str(raw.get(key) or "")
    detail = raw.get(f"{key}_detail") or {}
    content_type = str(detail.get("type") or "text/html")
    if "html" in content_type:
        value = html.unescape(_TAG.sub(" ", value))
    return " ".join(value.split())


def _content_html(raw: Mapping[str, Any]) -> str:
    """The full text: the first HTML content block, else the first block of any type."""
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    for content in contents:
        if "html" in str(content.get("type") or ""):
            return str(content["value"])
    return str(contents[0]["value"]) if contents else ""


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


def lead_image(raw: Mapping[str, Any], base: str) -> str:
    """The item's lead image: ``media:content`` (an image), then an image ``enclosure``,
    then ``media:thumbnail``; "" when the item has none.

    A ``media:content`` without ``medium`` or ``type`` counts when its URL looks like an
    image file; a video or audio one never does.
    """
    for media in raw.get("media_content") or []:
        kind = str(media.get("medium") or media.get("type") or "").lower()
        url = _http_url(media.get("url"), base)
        looks_like_image = urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES)
        if url and (
            kind == "image" or kind.startswith("image/") or (not kind and looks_like_image)
        ):
            return url
    for enclosure in raw.get("enclosures") or []:
        if str(enclosure.get("type") or "").lower().startswith("image/"):
            url = _http_url(enclosure.get("href") or enclosure.get("url"), base)
            if url:
                return url
    for thumbnail in raw.get("media_thumbnail") or []:
        url = _http_url(thumbnail.get("url"), base)
        if url:
            return url
    return ""


def _categories(raw: Mapping[str, Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in raw.get("tags") or []:
        term = " ".join(html.unescape(str(tag.get("term") or "")).split())
        if term:
            seen.setdefault(term, None)
    return tuple(seen)


def _timestamp(parsed: Any) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC ``struct_time``s; make them aware."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _author(raw: Mapping[str, Any]) -> str:
    """The author's name; feedparser's ``author`` may carry an e-mail address."""
    detail = raw.get("author_detail") or {}
    name = detail.get("name") or raw.get("author") or ""
    return " ".join(html.unescape(_TAG.sub(" ", str(name))).split())


def _wordpress_post_id(raw: Mapping[str, Any], guid: str) -> int | None:
    """WordPress ids come from ``<post-id>`` (WordPress.com) or a ``?p=123`` guid."""
    element = str(raw.get("post-id") or "").strip()
    if element.isdigit() and len(element) <= 18:
        return int(element)
    match = _WORDPRESS_GUID.search(guid)
    return int(match.group(1)) if match else None


def _alternates(raw: Mapping[str, Any], base: str, own_url: str) -> tuple[tuple[str, str], ...]:
    """Translations: Atom ``link rel="alternate"`` with ``hreflang``, other than this one."""
    found: dict[str, str] = {}
    for link in raw.get("links") or []:
        hreflang = str(link.get("hreflang") or "").strip().lower()
        if link.get("rel", "alternate") != "alternate" or not hreflang:
            continue
        href = _http_url(link.get("href"), base)
        if href and href != own_url:
            found.setdefault(hreflang, href)
    return tuple(found.items())


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
