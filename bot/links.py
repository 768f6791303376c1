"""Signed tracked links: ``{PUBLIC_URL}/r/<token>`` for Read-more and donate buttons.

A token names what was tapped (the kind, the target URL and the edition the
button was shown in) and carries an HMAC-SHA256 tag made with the process's
signing key, so the redirect can trust what it reads without a database lookup
and can never be turned into an open redirect: an altered or forged token
fails the tag check and gets 404.

Token layout: ``base64url(payload) "." base64url(tag[:12])`` where payload is
``v1\\n<kind>\\n<edition>\\n<url>`` in UTF-8. Percent-encoded non-ASCII characters
(Georgian, Armenian, Russian slugs) are packed as UTF-8 and encoded again on the
way out, which keeps tokens about half as long. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from bot.outbox.compose import LinkBuilder, direct_link

Kind = Literal["article", "donate"]
KINDS: tuple[Kind, ...] = ("article", "donate")
_VERSION = "v1"
_TAG_BYTES = 12  # 96 bits: far beyond guessing, keeps buttons' URLs short
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a tracked link points at, as read back from a verified token."""

    kind: Kind
    url: str
    edition: str  # "<region>[+<region>…]-<lang>", or "all-<lang>"

    @property
    def language(self) -> str:
        return self.edition.rpartition("-")[2]

    @property
    def regions(self) -> tuple[str, ...]:
        head = self.edition.rpartition("-")[0]
        return tuple(r for r in head.split("+") if r and r != "all")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HIGH_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")


def pack_url(url: str) -> str:
    """``%E1%83%90`` -> ``ა``: runs of escaped non-ASCII bytes become the characters."""

    def decode(match: re.Match[str]) -> str:
        try:
            return bytes.fromhex(match.group(0).replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)

    return _HIGH_ESCAPES.sub(decode, url)


def unpack_url(url: str) -> str:
    """Every non-ASCII character percent-encoded as UTF-8: an ASCII URI for ``Location``."""
    return "".join(c if c.isascii() else quote(c, safe="") for c in url)


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def sign(key: bytes, kind: Kind, url: str, edition: str) -> str:
    """A token for ``url``; raises ValueError for a kind or URL that must never be linked."""
    if kind not in KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    if not _is_web_url(url) or "\n" in url or "\n" in edition:
        raise ValueError(f"not a linkable http(s) URL: {url!r}")
    payload = "\n".join((_VERSION, kind, edition, pack_url(url))).encode()
    return f"{_b64(payload)}.{_b64(_tag(key, payload))}"


def verify(key: bytes, token: str) -> LinkTarget | None:
    """The target named by a genuine token, or None for anything forged, altered or malformed."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    body, _, tag = token.partition(".")
    try:
        payload, given = _unb64(body), _unb64(tag)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(given, _tag(key, payload)):
        return None
    try:
        version, kind, edition, url = payload.decode().split("\n", 3)
    except (UnicodeDecodeError, ValueError):
        return None
    url = unpack_url(url)
    if version != _VERSION or kind not in KINDS or not _is_web_url(url):
        return None
    return LinkTarget(kind, url, edition)


def tracked_links(key: bytes, public_url: str | None) -> LinkBuilder:
    """The PostBuilder hook: tracked links with a public URL, direct links without one."""
    if not public_url:
        return direct_link
    base = public_url.rstrip("/")

    def build(kind: str, url: str, edition: str) -> str:
        if kind not in KINDS:
            return url
        try:
            return f"{base}/r/{sign(key, kind, url, edition)}"
        except ValueError:
            return url  # never hide a button because its URL is odd: link it directly

    return build
