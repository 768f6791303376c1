"""Story search, the pure part: what is stored to search in, what a query asks, and the order.

Readers type in any of the five scripts, with or without capitals, ``ё``, Turkic ``İ`` or
Armenian marks; the stored ``articles.search_text`` and the query are folded alike
(``bot.text.fold``, the folding regions use), so the database compares plain substrings
(``LIKE``, the same on SQLite and PostgreSQL) over a bounded window of recent stories.
Ranking then runs on the few candidates the database returned: whole words beat word
starts, which beat the inside of a word; the title beats the summary; and a newer story
beats an older one with the same match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.text.fold import fold

__all__ = ["MAX_WORDS", "Query", "Scored", "parse_query", "rank", "searchable", "stem"]

MAX_QUERY_CHARS = 256  # Telegram's own limit on an inline query
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
_STORY_ID = re.compile(r"#(\d{1,12})\Z")
_LINES = re.compile(r"\s+")
# Points for one query word found in the title / the summary, by how it was found.
_TITLE = {"word": 6.0, "start": 4.0, "inside": 1.0}
_SUMMARY = {"word": 2.0, "start": 1.5, "inside": 0.5}
HALF_LIFE_DAYS = 7.0  # a match a week old weighs half as much as the same match today


def searchable(title: str, summary: str) -> str:
    """``articles.search_text``: the folded title, a newline, the folded summary.

    Folded without a language, as queries are: every ``i``, dotted or dotless, is one
    letter, so a reader without an Azerbaijani keyboard still finds ``Bakı``.
    """
    return "\n".join(_LINES.sub(" ", fold(part)).strip() for part in (title, summary))


STEM_FROM = 6  # letters: longer words are also found with another ending


def stem(word: str) -> str:
    """The part of ``word`` every inflected form shares, roughly: its last two letters
    go when it is long (``переговоры`` finds ``переговорах``, ``არჩევნები`` finds
    ``არჩევნებში``); short words stay whole."""
    return word[:-2] if len(word) >= STEM_FROM else word


@dataclass(frozen=True, slots=True)
class Query:
    """What a reader asked: folded words (each must occur, in some form), or one story
    by its id."""

    words: tuple[str, ...] = ()
    story_id: int | None = None
    blank: bool = True  # nothing typed at all (inline mode then lists the newest stories)

    @property
    def hopeless(self) -> bool:
        """Something was typed, but nothing a story could match (only punctuation)."""
        return not self.blank and not self.words and self.story_id is None

    @property
    def stems(self) -> tuple[str, ...]:
        """What the database looks for: every stem must occur in the story's text."""
        return tuple(stem(word) for word in self.words)


def parse_query(text: str) -> Query:
    """Words of ``text`` folded as ``searchable`` folds; ``#123`` (the Share button's query) names a
    story. Anything else (punctuation, ``%``, overlong input) yields plain words only."""
    text = (text or "")[:MAX_QUERY_CHARS].strip()
    found = _STORY_ID.match(text)
    if found:
        return Query(story_id=int(found.group(1)), blank=False)
    words: list[str] = []
    for word in _WORD.findall(fold(text)):
        if word not in words:
            words.append(word)
    return Query(words=tuple(words[:MAX_WORDS]), blank=not text)


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its place in the answer (higher ``score`` first)."""

    id: int
    score: float


def _how(word: str, text: str) -> str | None:
    """How ``word`` occurs in folded ``text``: a whole word, a word's start, inside, or not."""
    best: str | None = None
    for found in re.finditer(re.escape(word), text):
        start, end = found.start(), found.end()
        at_start = start == 0 or not text[start - 1].isalnum()
        at_end = end == len(text) or not text[end].isalnum()
        if at_start and at_end:
            return "word"
        best = "start" if at_start or best == "start" else "inside"
    return best


def match_score(words: Sequence[str], search_text: str) -> float:
    """Points for how well ``words`` match one story's ``search_text``."""
    title, _, summary = search_text.partition("\n")
    score = 0.0
    for word in words:
        score += max(_points(word, title, _TITLE), _points(word, summary, _SUMMARY))
    return score


def _points(word: str, text: str, table: dict[str, float]) -> float:
    """The word itself, else another form of it (its stem, at a word's start)."""
    how = _how(word, text)
    if how is None and stem(word) != word and _how(stem(word), text) in ("word", "start"):
        how = "start"
    return table[how] if how else 0.0


def rank(
    candidates: Sequence[tuple[int, str, datetime]],
    words: Sequence[str],
    now: datetime,
    limit: int,
) -> list[Scored]:
    """The best ``limit`` of ``(id, search_text, created_at)``: match, halved per week of age.

    Without words (an empty query) the newest stories come first.
    """
    scored = []
    for story_id, text, created in candidates:
        age_days = max((now - created).total_seconds(), 0.0) / 86400
        weight = 0.5 ** (age_days / HALF_LIFE_DAYS)
        base = match_score(words, text) if words else 1.0
        scored.append(Scored(story_id, base * weight))
    scored.sort(key=lambda s: (-s.score, -s.id))
    return scored[:limit]
