"""Catalog problems an operator can act on: all of them at once, each with its block and line.

Pydantic stops at the first section it cannot build, so the cross-section rules (region
codes, languages, duplicates) would never run once any block is malformed, and one bad
feed would hide every channel error after it. :func:`without_bad_blocks` takes out what
failed (a bad key where the block survives without it, else the block) so the rest can
still be cross-checked; :func:`original_positions` puts the cross-check's positions back
to the file's.

``tomllib`` keeps no positions, so :func:`located` finds lines by reading the text: the
n-th ``[[channels]]`` header is ``channels[n-1]``, and a key's line is searched between
its block's header and the next one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Loc = tuple[int | str, ...]

# How a block is named to the operator: its kind and the key that identifies it.
_BLOCK_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "channels": ("channel", ("chat",)),
    "feeds": ("feed", ("url", "name")),
    "regions": ("region", ("code",)),
    "topics": ("topic", ("code",)),
    "donate.links": ("donation link", ("url", "label")),
}
_PROBLEM_PATH = re.compile(
    r"^(?P<path>[A-Za-z_][\w]*(?:\[\d+\])?(?:\.[A-Za-z_][\w]*(?:\[\d+\])?)*)"
)
_SEGMENT = re.compile(r"(?P<key>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\])?")
_HEADER = re.compile(r"^\s*(?P<open>\[\[?)\s*(?P<name>[A-Za-z0-9_.\-\s\"']+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")
_MULTILINE = re.compile(r"\"\"\"|'''")


@dataclass
class Trimmed:
    """The catalog data with its failed parts removed, and where the kept list items were
    in the file (``kept["feeds"][i]`` is the file's position of the i-th feed left)."""

    data: dict[str, Any]
    kept: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Trimmed:
        """Nothing removed yet: every list of blocks (``feeds``, ``donate.links``) kept whole."""
        kept: dict[str, list[int]] = {}
        for name, value in data.items():
            if isinstance(value, list):
                kept[name] = list(range(len(value)))
            elif isinstance(value, Mapping):
                for inner, items in value.items():
                    if isinstance(items, list):
                        kept[f"{name}.{inner}"] = list(range(len(items)))
        return cls(copy.deepcopy(dict(data)), kept)


def without_bad_blocks(trimmed: Trimmed, error_locs: Iterable[Loc]) -> Trimmed | None:
    """``trimmed`` less each place a validation error points at.

    A bad key is removed from its block (the block may still be valid without it); a
    block that cannot be valid (a required key missing or wrong) is removed whole on the
    next pass. None when the error is the catalog's root and nothing is left to check.
    """
    smaller = Trimmed(copy.deepcopy(trimmed.data), {k: list(v) for k, v in trimmed.kept.items()})
    doomed: list[Loc] = []
    for loc in error_locs:
        target = _deepest_existing(smaller.data, loc)
        if not target:
            return None
        doomed.append(target)
    # Deepest and highest index first, so one removal never shifts another's position.
    for target in sorted(set(doomed), key=_removal_order, reverse=True):
        _remove(smaller, target)
    return smaller


def _deepest_existing(data: Any, loc: Loc) -> Loc:
    """The longest prefix of ``loc`` that names something present in ``data``."""
    node, found = data, []
    for part in loc:
        in_table = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_table or in_list):
            break
        node = node[part]
        found.append(part)
    return tuple(found)


def _removal_order(loc: Loc) -> tuple[int, tuple[int, ...]]:
    return len(loc), tuple(p for p in loc if isinstance(p, int))


def _remove(trimmed: Trimmed, target: Loc) -> None:
    parent: Any = trimmed.data
    for part in target[:-1]:
        parent = parent[part]
    last = target[-1]
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        del parent[last]
        section = ".".join(str(p) for p in target[:-1])
        if section in trimmed.kept:
            del trimmed.kept[section][last]
    elif isinstance(parent, dict):
        parent.pop(last, None)


def original_positions(problem: str, kept: Mapping[str, list[int]]) -> str:
    """``feeds[1].x`` of a trimmed catalog back to ``feeds[3].x`` of the file."""

    def restore(match: re.Match[str]) -> str:
        section, index = match["section"], int(match["index"])
        positions = kept.get(section)
        if positions is None or index >= len(positions):
            return match[0]
        return f"{section}[{positions[index]}]"

    return re.sub(r"^(?P<section>[\w.]+)\[(?P<index>\d+)\]", restore, problem, count=1)


def located(problems: Iterable[str], data: Mapping[str, Any], text: str | None) -> list[str]:
    """Each problem with the name of its block and its line in the file, when known:
    ``channels[1].regions: unknown region code 'mars' (channel @cw_armenia, line 42)``."""
    lines = _TomlLines(text) if text is not None else None
    return [_locate(problem, data, lines) for problem in problems]


def _locate(problem: str, data: Mapping[str, Any], lines: _TomlLines | None) -> str:
    match = _PROBLEM_PATH.match(problem)
    if match is None or not problem[match.end() :].startswith(":"):
        return problem
    path = [
        (m["key"], int(m["index"]) if m["index"] else None) for m in _SEGMENT.finditer(match[0])
    ]
    where: list[str] = []
    name = _block_name(path, data)
    if name:
        where.append(name)
    line = lines.line_of(path) if lines else None
    if line is not None:
        where.append(f"line {line}")
    return f"{problem} ({', '.join(where)})" if where else problem


def _block_name(path: list[tuple[str, int | None]], data: Mapping[str, Any]) -> str | None:
    """``channel @cw_armenia`` for a problem inside the second ``[[channels]]`` block."""
    node: Any = data
    section: list[str] = []
    for key, index in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
        section.append(key)
        if index is None:
            continue
        if not isinstance(node, list) or index >= len(node):
            return None
        node = node[index]
        kind = _BLOCK_NAMES.get(".".join(section))
        if kind is None or not isinstance(node, Mapping):
            return None
        for id_key in kind[1]:
            value = node.get(id_key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return f"{kind[0]} {value}"
        return None
    return None


class _TomlLines:
    """Line numbers of table headers and keys in TOML text (1-based, as editors count)."""

    def __init__(self, text: str) -> None:
        self.headers: list[tuple[int, str, bool]] = []  # (line, dotted name, array of tables)
        self.keys: list[tuple[int, str]] = []
        in_string: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if raw.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(raw)
            if header:
                dotted = ".".join(p.strip().strip("\"'") for p in header["name"].split("."))
                self.headers.append((number, dotted, header["open"] == "[["))
                continue
            key = _KEY.match(raw)
            if key:
                self.keys.append((number, key["key"].strip("\"'")))
            quotes = _MULTILINE.findall(raw)
            if len(quotes) % 2 == 1:
                in_string = quotes[-1]

    def line_of(self, path: list[tuple[str, int | None]]) -> int | None:
        """The line of the deepest part of ``path`` found: a key in its block, else the
        block's header."""
        table: list[str] = []
        start, end = 0, self._next_header(0)
        best: int | None = None
        for key, index in path:
            table.append(key)
            header = self._header(".".join(table), index)
            if header is None:
                key_line = self._key(key, after=start, before=end)
                return key_line if key_line is not None else best
            best = start = header
            end = self._next_header(header)
        return best

    def _header(self, dotted: str, index: int | None) -> int | None:
        """The line of ``[dotted]``, or of the ``index``-th ``[[dotted]]``."""
        found = [
            line
            for line, name, is_array in self.headers
            if name == dotted and is_array == (index is not None)
        ]
        position = index or 0
        return found[position] if position < len(found) else None

    def _next_header(self, line: int) -> int | None:
        return next((other for other, _, _ in self.headers if other > line), None)

    def _key(self, key: str, *, after: int, before: int | None) -> int | None:
        return next(
            (
                line
                for line, name in self.keys
                if name == key and line > after and (before is None or line < before)
            ),
            None,
        )
