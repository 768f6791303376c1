"""Reading the catalog file: TOML, validated section by section, then across sections;
every problem at once, each with its block and line."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.catalog.cross_check import cross_check
from bot.catalog.problems import Trimmed, located, original_positions, without_bad_blocks
from bot.catalog.sections import Catalog
from bot.errors import ConfigError


def _describe(err: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for p in err.get("loc", ()):
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
        elif p in ("str", "dict[str,str]", "function-after[_web_url(), str]"):
            continue
        else:
            parts.append(str(p))
    where = ".".join(parts) or "catalog"
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    if kind == "missing":
        return f"{where}: required key is missing"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}"


def parse_catalog(
    data: Mapping[str, Any], *, base_dir: Path | None = None, text: str | None = None
) -> Catalog:
    """Validate a decoded catalog; raise ConfigError listing every problem.

    With the file's ``text``, each problem also names its block (a channel's chat, a
    feed's URL, a region's code) and its line.
    """
    catalog, problems = _validate(_resolve_files(data, base_dir))
    if catalog is None or problems:
        raise ConfigError(located(problems, data, text) if text is not None else problems)
    return catalog


def _validate(data: Mapping[str, Any]) -> tuple[Catalog | None, list[str]]:
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        return None, list(dict.fromkeys(problems + _cross_check_valid_blocks(data)))
    return catalog, cross_check(catalog)


def _cross_check_valid_blocks(data: Mapping[str, Any], passes: int = 4) -> list[str]:
    """The cross-section rules on what remains once the invalid blocks are taken out,
    so that one malformed feed does not hide the channel errors after it."""
    trimmed: Trimmed | None = Trimmed.of(data)
    for _ in range(passes):
        if trimmed is None:
            return []
        try:
            catalog = Catalog.model_validate(trimmed.data)
        except ValidationError as exc:
            trimmed = without_bad_blocks(trimmed, (tuple(e["loc"]) for e in exc.errors()))
            continue
        return [original_positions(p, trimmed.kept) for p in cross_check(catalog)]
    return []


def _resolve_files(data: Mapping[str, Any], base_dir: Path | None) -> Mapping[str, Any]:
    """Make ``file://relative/path`` feed URLs absolute, relative to the catalog file."""
    feeds = data.get("feeds")
    if base_dir is None or not isinstance(feeds, list):
        return data
    resolved = []
    for feed in feeds:
        url = feed.get("url") if isinstance(feed, dict) else None
        if isinstance(url, str) and url.startswith("file://") and not url.startswith("file:///"):
            path = (base_dir / url.removeprefix("file://")).resolve()
            feed = {**feed, "url": path.as_uri()}
        resolved.append(feed)
    return {**data, "feeds": resolved}


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"NEWSBOT_CATALOG: file {str(path)!r} does not exist"]) from None
    except OSError as exc:
        raise ConfigError([f"NEWSBOT_CATALOG: cannot read {str(path)!r}: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"catalog: {path} is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"catalog: {path} is not valid TOML: {exc}"]) from None
    return parse_catalog(data, base_dir=path.resolve().parent, text=raw.decode("utf-8"))
