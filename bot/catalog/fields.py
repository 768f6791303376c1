"""Values a catalog section checks on its own: web URLs, host names, region and
language codes."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

REGION_CODE = re.compile(r"^[a-z0-9_]+$")
LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def check_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in schemes:
        raise ValueError(f"malformed URL {value!r}: scheme must be one of {', '.join(schemes)}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"malformed URL {value!r}: no host")
    if " " in value.strip():
        raise ValueError(f"malformed URL {value!r}: contains spaces")
    return value.strip()


def _web_url(value: str) -> str:
    return check_url(value)


WebUrl = Annotated[str, AfterValidator(_web_url)]

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host_name(value: str) -> str:
    """A bare host name (``news.example.com``), lower case; no scheme, port or path."""
    host = value.strip().rstrip(".").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not host or len(ascii_host) > 253 or not all(_HOST_LABEL.match(x) for x in labels):
        raise ValueError(f"{value!r} is not a host name like 'news.example.com' (no scheme, path)")
    return host


HostName = Annotated[str, AfterValidator(_host_name)]


def _code(value: str) -> str:
    if not REGION_CODE.match(value):
        raise ValueError(f"{value!r} must match [a-z0-9_]+")
    return value


Code = Annotated[str, AfterValidator(_code)]
"""A region's or a topic's code: it goes into deep links and callback data."""
