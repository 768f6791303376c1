"""Region classification: which editions an article belongs to.

A feed's fixed regions win; otherwise the catalog's keywords are matched
against the article's categories, URL path and title, case-folded for every
script. No match means the article is outlet-wide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.catalog import Region
from bot.domain import FeedEntry
from bot.text.fold import contains_keyword, fold


@dataclass(frozen=True, slots=True)
class RegionMatcher:
    """Keywords per region, folded once at start."""

    keywords: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def from_regions(cls, regions: Sequence[Region]) -> RegionMatcher:
        return cls(
            tuple(
                (r.code, tuple(dict.fromkeys([r.code.replace("_", " "), *r.keywords])))
                for r in regions
            )
        )

    def classify(
        self, entry: FeedEntry, fixed: Sequence[str] = (), lang: str | None = None
    ) -> tuple[str, ...]:
        if fixed:
            return tuple(dict.fromkeys(fixed))
        text = " \n ".join(_texts(entry))
        haystack = fold(text, lang)
        # Azerbaijani text folds "I" to "ı", so English in it ("GEORGIA") would miss the
        # ASCII keyword "georgia": ASCII keywords are also tried on a neutral folding.
        neutral = fold(text) if fold("I", lang) != fold("I") else haystack
        return tuple(
            code
            for code, words in self.keywords
            if any(
                contains_keyword(haystack, word, lang)
                or (word.isascii() and contains_keyword(neutral, word))
                for word in words
            )
        )


def _texts(entry: FeedEntry) -> list[str]:
    path = unquote(urlsplit(entry.url).path)
    words_in_path = path.replace("/", " ").replace("-", " ").replace("_", " ")
    return [*entry.categories, words_in_path, entry.title]
