"""Feeds read from local files (``file://`` URLs), within the same size limit as HTTP."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from yarl import URL

from scheduler.fetch_errors import FetchError, size_text


def file_path(target: URL) -> Path:
    if target.host not in (None, "", "localhost"):
        raise FetchError(f"file URL on another host {target.host!r}")
    if not target.path:
        raise FetchError("invalid file URL (no path)")
    return Path(target.path)


def read_file(path: Path, max_bytes: int) -> tuple[bytes, float]:
    try:
        with path.open("rb") as handle:
            mtime = os.fstat(handle.fileno()).st_mtime
            body = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise FetchError(f"file not found: {path}") from exc
    except OSError as exc:
        raise FetchError(f"cannot read file {path}: {exc.strerror or exc}") from exc
    if len(body) > max_bytes:
        raise FetchError(f"body larger than {size_text(max_bytes)}")
    return body, mtime


def file_content_type(path: Path) -> str:
    """Feed files get an XML type: feedparser flags documents without a content type."""
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed and ("xml" in guessed or "html" in guessed) else "application/xml"
