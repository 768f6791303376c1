"""Case-folding and whole-word keyword matching for the five scripts.

Regions are classified by keywords matched against titles, categories and URL paths
written in Latin (English, Azerbaijani), Cyrillic, Georgian and Armenian. ``str.lower``
alone gets several of them wrong for matching purposes:

- Turkish and Azerbaijani pair ``I``/``ı`` and ``İ``/``i``; ``"İ".lower()`` is ``i`` plus
  a combining dot, which then matches nothing.
- Georgian Mtavruli capitals (U+1C90…, used in headlines) must meet Mkhedruli.
- Russian writes ``ё`` or ``е`` for the same word.
- Armenian puts ``՞ ՜ ՛`` inside words and has the ``և`` ligature.

``fold`` maps all of these to one form; ``contains_keyword`` then matches whole words on
``\\w`` boundaries, which are Unicode-aware for every script here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["contains_keyword", "fold"]

_TURKIC = frozenset({"az", "tr"})

#: Before lowercasing, for Turkish and Azerbaijani: dotless capital I is dotless ı.
_TURKIC_UPPER = str.maketrans({"I": "ı", "İ": "i"})
#: Without a language: every i, dotted or not, is the same letter.
_NEUTRAL_UPPER = str.maketrans({"I": "i", "İ": "i", "ı": "i"})
#: After lowercasing, for every language.
_AFTER = str.maketrans(
    {
        "ё": "е",
        "\u0307": None,  # combining dot above, left by "İ".casefold()
        "\u055b": None,  # Armenian emphasis mark
        "\u055c": None,  # Armenian exclamation mark
        "\u055e": None,  # Armenian question mark
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
        "\u2019": "'",
        "\u02bc": "'",
    }
)
_MTAVRULI_TO_MKHEDRULI = str.maketrans(
    {code: code - 0x1C90 + 0x10D0 for code in range(0x1C90, 0x1CC0) if code not in (0x1CBB, 0x1CBC)}
)
_SPACES = re.compile(r"\s+")


def _base_lang(lang: str | None) -> str | None:
    if not lang:
        return None
    return lang.lower().replace("_", "-").split("-")[0]


def fold(text: str, lang: str | None = None) -> str:
    """Fold ``text`` for matching: NFKC, Turkic-aware lowercase, ``ё``→``е``, Mtavruli to
    Mkhedruli, Armenian in-word marks and combining dots removed, Armenian ``և`` as
    ``եվ`` (its spelling in capitals).

    With ``lang`` ``"az"``/``"tr"``, ``I``→``ı`` and ``İ``→``i`` as those languages write.
    With any other ``lang`` or ``None`` the dotted and dotless i are one letter, so
    ``İstanbul``, ``ISTANBUL`` and ``istanbul`` fold alike.
    """
    text = unicodedata.normalize("NFKC", text)
    table = _TURKIC_UPPER if _base_lang(lang) in _TURKIC else _NEUTRAL_UPPER
    text = text.translate(table).translate(_MTAVRULI_TO_MKHEDRULI).casefold()
    if _base_lang(lang) not in _TURKIC:
        text = text.replace("ı", "i")
    # Armenian "և" (NFKC: "եւ") is written "ԵՎ" in capitals: "ԵՐԵՎԱՆ" is "Երևան".
    return text.translate(_AFTER).replace("եւ", "եվ")


@lru_cache(maxsize=4096)
def _keyword_pattern(folded_keyword: str, prefix: bool) -> re.Pattern[str] | None:
    words = folded_keyword.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    end = "" if prefix else r"(?!\w)"
    return re.compile(rf"(?<!\w){body}{end}")


def contains_keyword(haystack_folded: str, keyword: str, lang: str | None = None) -> bool:
    """Whether ``keyword`` occurs as a whole word (or words) in ``haystack_folded``.

    ``haystack_folded`` must already be ``fold(text, lang)`` with the same ``lang`` (fold
    once, match many keywords). A keyword ending in ``*`` matches as a word prefix
    (``грузи*`` finds ``Грузии``); otherwise only the exact word matches, since
    inflected forms would otherwise match unrelated words.
    """
    keyword = keyword.strip()
    prefix = keyword.endswith("*")
    folded = _SPACES.sub(" ", fold(keyword.rstrip("*").strip(), lang))
    pattern = _keyword_pattern(folded, prefix)
    return pattern is not None and pattern.search(haystack_folded) is not None
