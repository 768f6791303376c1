"""Readers' keywords as database terms: matched set-based, in the enqueue statement.

A reader's keyword ("Karabakh", "ԵՐԵՎԱՆ", "Грузи*") is stored folded
(:func:`bot.text.fold.fold`, without a language, so dotted and dotless i are one
letter) as its words joined by one space, with a trailing ``*`` when it is a word
prefix. An article's title and summary give the same forms for every run of up to
:data:`MAX_WORDS` words (and every prefix of a run's last word), so that "the reader
has a keyword this article matches" is an ``IN`` over a few hundred strings: no
per-reader loop in Python, whatever the number of readers.

Matching is on whole words, as for regions: "Karabakh" finds "Nagorno-Karabakh" and
"KARABAKH" but not "Karabakhi"; "Karabakh*" finds that too.
"""

from __future__ import annotations

import re

from bot.text.fold import fold

__all__ = ["MAX_TERMS", "MAX_WORDS", "keyword_term", "text_terms"]

#: Longest keyword, in words.
MAX_WORDS = 3
#: Shortest prefix keyword, in letters (before its ``*``).
MIN_PREFIX = 3
#: Terms one article contributes at most (its first words win): bounds the statement.
MAX_TERMS = 4000
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def keyword_term(keyword: str) -> str | None:
    """The stored form of a keyword, or None when it is empty, too long or too short."""
    text = keyword.strip()
    prefix = text.endswith("*")
    words = _words(text.rstrip("*"))
    if not words or len(words) > MAX_WORDS:
        return None
    if prefix and len(words[-1]) < MIN_PREFIX:
        return None
    term = " ".join(words) + ("*" if prefix else "")
    return term if len(term) <= 128 else None


def text_terms(*texts: str) -> list[str]:
    """Every term of ``texts`` a keyword could be: runs of 1..MAX_WORDS words, and the
    same with their last word cut to each prefix of MIN_PREFIX letters or more (``*``)."""
    found: dict[str, None] = {}
    for text in texts:
        words = _words(text)
        for start in range(len(words)):
            for length in range(1, MAX_WORDS + 1):
                gram = words[start : start + length]
                if len(gram) < length:
                    break
                head, last = " ".join(gram[:-1]), gram[-1]
                found[" ".join(gram)] = None
                for cut in range(MIN_PREFIX, len(last) + 1):
                    found[f"{head} {last[:cut]}*".lstrip()] = None
                if len(found) >= MAX_TERMS:
                    return list(found)[:MAX_TERMS]
    return list(found)
