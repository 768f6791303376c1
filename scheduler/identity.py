"""Stable identities for feed entries and their URLs.

The same article reaches us under many spellings: with and without ``www``-less
ports, tracking parameters from newsletters, an AMP suffix, a trailing slash, a
Unicode host. Deduplication must see one article there, so every key below is
built from a canonical URL. These are pure functions: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit, urlunsplit

from bot.domain import FeedEntry

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say where a click came from, never which page it is.
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_ga", "ref"})
_TRACKING_PREFIXES = ("utm_",)
# ``?amp`` / ``?amp=1`` switches a page to its AMP rendering; ``?amp=other`` may be content.
_AMP_FLAG_VALUES = frozenset({"", "1", "true", "yes"})

# RFC 3986 section 2.3: these never need escaping, so ``%41`` and ``A`` are the same URL.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# Everything else allowed literally in a path or query (reserved sub-delims, ``:``, ``@``, ``/``).
_PATH_SAFE = frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")

_WORDPRESS_HOST_PREFIX = "www."


def canonical_url(url: str) -> str:
    """Return the one spelling of ``url`` that every variant of it maps to.

    Non-HTTP(S) strings (``tag:`` ids, ``urn:``, garbage) are returned stripped but
    otherwise unchanged: there is no safe normalisation for them.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return text
    netloc = _canonical_netloc(parts, scheme)
    if netloc is None:
        return text
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _canonical_netloc(parts: SplitResult, scheme: str) -> str | None:
    """Lowercase, punycode the host and drop the port when it is the scheme's default."""
    host = _ascii_host(parts.hostname or "")
    if host is None:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if ":" in host:  # an IPv6 literal needs its brackets back
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    return f"{userinfo}@{netloc}" if at else netloc


def _ascii_host(host: str) -> str | None:
    """IDNA-encode a Unicode host so ``пример.рф`` and ``xn--e1afmkfd.xn--p1ai`` agree."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _canonical_path(path: str) -> str:
    """Normalise escapes, drop trailing ``/amp`` segments and trailing slashes."""
    trimmed = _normalize_escapes(path, _PATH_SAFE).rstrip("/")
    while trimmed.endswith("/amp"):
        trimmed = trimmed.removesuffix("/amp").rstrip("/")
    return trimmed or "/"


def _canonical_query(query: str) -> str:
    """Drop tracking parameters and sort the rest, so parameter order does not matter."""
    kept: list[tuple[str, str]] = []
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if _is_tracking(_decoded_lower(key), _decoded_lower(value)):
            continue
        kept.append((_normalize_escapes(key, _QUERY_SAFE), _normalize_escapes(value, _QUERY_SAFE)))
    kept.sort()
    return "&".join(f"{key}={value}" if value else key for key, value in kept)


def _is_tracking(key: str, value: str) -> bool:
    """True for parameters that identify a campaign or referrer, not a page."""
    if key in _TRACKING_KEYS or key.startswith(_TRACKING_PREFIXES):
        return True
    return key == "amp" and value in _AMP_FLAG_VALUES


def _decoded_lower(text: str) -> str:
    """Decode escapes for comparison only (``utm%5Fsource`` is still ``utm_source``)."""
    return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), text).lower()


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """RFC 3986 percent-encoding normalisation of one URL component.

    Escaped unreserved characters are decoded, remaining escapes get uppercase hex,
    and characters that must be escaped (spaces, non-ASCII, quotes) are encoded as
    UTF-8. Escaped reserved characters such as ``%2F`` stay escaped: decoding them
    would change the meaning of the URL.
    """
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        match = _PERCENT.match(text, index) if char == "%" else None
        if match:
            decoded = chr(int(match.group(1), 16))
            out.append(decoded if decoded in _UNRESERVED else match.group(0).upper())
            index = match.end()
            continue
        if char in _UNRESERVED or char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        index += 1
    return "".join(out)


def entry_key(entry: FeedEntry) -> str:
    """The identity of an entry across polls, renames and tracking-parameter noise.

    In order of trust:

    1. ``wp:<host>:<post id>`` when the feed exposes a WordPress post id: it survives
       slug and title edits (``www.`` is dropped from the host);
    2. ``guid:<guid>`` when the feed has a guid that is not just the title (titles get
       edited); a guid that is an HTTP(S) URL is canonicalised first;
    3. ``url:<canonical url>`` otherwise.

    Entries with none of these (the parser drops them) get a title-based key so this
    function never fails.
    """
    if entry.wp_post_id is not None:
        host = _site_host(entry.url) or _site_host(entry.guid)
        if host:
            return f"wp:{host}:{entry.wp_post_id}"
    guid = entry.guid.strip()
    if guid and not _is_mutable_guid(guid, entry):
        return f"guid:{canonical_url(guid)}"
    if entry.url.strip():
        return f"url:{canonical_url(entry.url)}"
    return f"title:{_title_digest(entry.title)}"


def fallback_key(entry: FeedEntry) -> str:
    """A key from the canonical URL plus a hash of the normalised title.

    Use it instead of :func:`entry_key` for a feed that reuses guids: a CMS that gives
    every item the same guid, or numbers items from 1 again after a migration. The
    caller detects that when one document holds two entries with the same
    :func:`entry_key` but different canonical URLs, or when a known key arrives with a
    different canonical URL and a different title; from then on that feed's entries
    are keyed with this function. It is weaker than a guid (a title edit makes a new
    key), which is why it is not the default.
    """
    return f"fb:{canonical_url(entry.url)}:{_title_digest(entry.title)}"


def _site_host(url: str) -> str:
    """The canonical host of an HTTP(S) URL without ``www.``, or ``""``."""
    canonical = canonical_url(url)
    try:
        parts = urlsplit(canonical)
    except ValueError:
        return ""
    if parts.scheme not in _DEFAULT_PORTS:
        return ""
    host = parts.netloc.rpartition("@")[2]
    return host.removeprefix(_WORDPRESS_HOST_PREFIX)


def _is_mutable_guid(guid: str, entry: FeedEntry) -> bool:
    """A guid equal to the title is a copy of something editors change."""
    return bool(entry.title) and _normalize_title(guid) == _normalize_title(entry.title)


def _normalize_title(title: str) -> str:
    """Fold case, compatibility forms and whitespace so cosmetic edits keep the key."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(folded.split())


def _title_digest(title: str) -> str:
    return hashlib.sha1(_normalize_title(title).encode("utf-8")).hexdigest()
