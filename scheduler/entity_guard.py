"""The entity expansion guard: a feed whose internal entities would expand past
:data:`MAX_ENTITY_EXPANSION` characters is refused before feedparser sees it.

expat itself stops recursive "billion laughs" expansions, but feedparser falls back to
a lenient parser on any XML error and that one expands the simple entities it kept with
no bound (quadratic blow-up): a 200 kB entity referenced 20 000 times would build
gigabytes of text.
"""

from __future__ import annotations

import re

# Entity expansion that no real feed needs; beyond it a document is refused.
MAX_ENTITY_EXPANSION = 1_000_000

_ENTITY_DECL = re.compile(r"<!ENTITY\s+(?!%)([^\s\"'>]+)\s+(?:\"([^\"]*)\"|'([^']*)')")
# How ``<!ENTITY`` looks in the encodings feedparser can be handed; each one is checked
# in the matching decoding, so a UTF-16 document cannot slip past the guard.
_DECL_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")


def entity_refusal(body: bytes) -> str | None:
    """Why the document is refused, or ``None`` when its entities stay within the limit.

    Declarations are rare in real feeds, so the check only decodes the document when
    one is present.
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
