"""Region classification: which editions an article belongs to.

In order, the first that gives an answer wins:

1. the feed's fixed regions (catalog ``[[feeds]] regions``);
2. the newsroom's own WordPress categories and tags, matched against each region's
   ``categories`` (names or slugs, for every language or per language): editors set
   these on every story, so they are the most precise signal there is;
3. the regions' ``keywords``, matched against the article's categories, URL path and
   title, case- and diacritic-folded for every script (:mod:`bot.text.fold`);
4. ``[outlet] unmatched``: a region code sends such an article to that region;
   ``"none"`` and ``"all"`` leave it without regions, and the outbox decides who gets
   an article without regions (:func:`bot.storage.deliveries.enqueue_article`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.catalog import Catalog, Region, Topic
from bot.domain import FeedEntry
from bot.text.fold import contains_keyword, fold

#: Categories written in any language (a flat list in the catalog).
ANY_LANGUAGE = "*"
_TERM_SEPARATORS = re.compile(r"[\s\-_/]+")


def category_term(text: str) -> str:
    """One form for a category's name and its slug: ``South Ossetia``, ``south-ossetia``,
    ``SOUTH_OSSETIA`` and a percent-encoded Cyrillic slug all meet.

    Folding is language-neutral (dotted and dotless i are one letter), so an English tag
    on an Azerbaijani post matches as it is written.
    """
    folded = fold(unquote(text).strip().lstrip("#"))
    return " ".join(part for part in _TERM_SEPARATORS.split(folded) if part)


def _category_sets(region: Region | Topic) -> dict[str, frozenset[str]]:
    raw = region.categories
    per_language = raw if isinstance(raw, dict) else {ANY_LANGUAGE: raw}
    return {
        lang: frozenset(t for t in (category_term(name) for name in names) if t)
        for lang, names in per_language.items()
    }


@dataclass(frozen=True, slots=True)
class RegionMatcher:
    """Categories and keywords per region, folded once at start."""

    keywords: tuple[tuple[str, tuple[str, ...]], ...]
    categories: tuple[tuple[str, Mapping[str, frozenset[str]]], ...] = ()
    #: the region an article matching nothing belongs to, if the catalog names one
    fallback: str | None = None

    @classmethod
    def from_regions(cls, regions: Sequence[Region], unmatched: str = "none") -> RegionMatcher:
        return cls(
            keywords=tuple(
                (r.code, tuple(dict.fromkeys([r.code.replace("_", " "), *r.keywords])))
                for r in regions
            ),
            categories=tuple((r.code, _category_sets(r)) for r in regions if r.categories),
            fallback=None if unmatched in ("none", "all") else unmatched,
        )

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> RegionMatcher:
        return cls.from_regions(catalog.regions, catalog.outlet.unmatched)

    @classmethod
    def from_topics(cls, topics: Sequence[Topic]) -> RegionMatcher:
        """The same rules for the catalog's topics: categories first, then keywords
        (a topic's code is not a keyword: "economy" in a URL is not the topic)."""
        return cls(
            keywords=tuple((t.code, tuple(t.keywords)) for t in topics if t.keywords),
            categories=tuple((t.code, _category_sets(t)) for t in topics if t.categories),
        )

    def topics(self, entry: FeedEntry, lang: str | None) -> tuple[str, ...]:
        """An article's topics: its categories' topics, else its keywords'."""
        return self.by_categories(entry.categories, lang) or self.by_keywords(entry, lang)

    def classify(
        self, entry: FeedEntry, fixed: Sequence[str] = (), lang: str | None = None
    ) -> tuple[str, ...]:
        if fixed:
            return tuple(dict.fromkeys(fixed))
        found = self.by_categories(entry.categories, lang) or self.by_keywords(entry, lang)
        if not found and self.fallback:
            return (self.fallback,)
        return found

    def by_categories(self, names: Sequence[str], lang: str | None) -> tuple[str, ...]:
        """Regions whose catalog categories (for ``lang``, or for every language) name
        one of the article's categories or tags."""
        terms = {category_term(name) for name in names}
        terms.discard("")
        if not terms:
            return ()
        found = []
        for code, per_language in self.categories:
            wanted = per_language.get(ANY_LANGUAGE, frozenset())
            if lang:
                wanted = wanted | per_language.get(lang, frozenset())
            if not terms.isdisjoint(wanted):
                found.append(code)
        return tuple(found)

    def by_keywords(self, entry: FeedEntry, lang: str | None) -> tuple[str, ...]:
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
