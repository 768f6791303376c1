"""Text lengths as Telegram counts them: UTF-16 code units.

Telegram's 4096/1024 limits and entity offsets are in UTF-16 units, so a character
outside the Basic Multilingual Plane (most emoji) counts twice. Python's ``len`` counts
code points, which undercounts exactly the texts readers care about (emoji, rare CJK).
"""

from __future__ import annotations

import unicodedata

__all__ = ["truncate_utf16", "utf16_len"]

_ZWJ = "\u200d"
_KEYCAP = "\u20e3"
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_VARIATION_SELECTORS = range(0xFE00, 0xFE10)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (astral characters count 2)."""
    # Encoding is done in C and is faster than counting astral characters in Python;
    # "surrogatepass" keeps lone surrogates (one unit each) from raising.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _extends_previous(char: str) -> bool:
    """Characters that belong to the grapheme cluster before them.

    Covers what emoji sequences use (ZWJ, variation selectors, skin tones, keycaps,
    flag tags) and combining marks (accents written as separate code points).
    """
    code = ord(char)
    return (
        char in (_ZWJ, _KEYCAP)
        or code in _VARIATION_SELECTORS
        or code in _SKIN_TONES
        or code in _TAGS
        or unicodedata.combining(char) != 0
    )


def _safe_cut(text: str, cut: int) -> int:
    """Move ``cut`` back until it does not split a grapheme cluster (simple rules)."""
    while 0 < cut < len(text) and (_extends_previous(text[cut]) or text[cut - 1] == _ZWJ):
        cut -= 1
    if 0 < cut < len(text) and ord(text[cut]) in _REGIONAL_INDICATORS:
        # Flags are pairs of regional indicators: never keep an odd one.
        run = 0
        while cut - run > 0 and ord(text[cut - run - 1]) in _REGIONAL_INDICATORS:
            run += 1
        cut -= run % 2
    return cut


def _prefix_within(text: str, limit: int) -> int:
    """Number of code points of the longest prefix of at most ``limit`` UTF-16 units."""
    encoded = text.encode("utf-16-le", "surrogatepass")[: 2 * limit]
    if len(encoded) >= 2 and 0xD8 <= encoded[-1] <= 0xDB:
        # The last unit is the high half of a surrogate pair: drop it too.
        encoded = encoded[:-2]
    return len(encoded.decode("utf-16-le", "surrogatepass"))


def truncate_utf16(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that is at most ``limit`` UTF-16 units long.

    Never splits a surrogate pair, and backs off rather than cut an emoji sequence
    (ZWJ families, skin tones, flags, keycaps) or a letter from its combining accent.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit // 2 or utf16_len(text) <= limit:
        return text
    return text[: _safe_cut(text, _prefix_within(text, limit))]
