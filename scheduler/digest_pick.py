"""Which of the day's articles a reader's digest lists (pure: rows in, rows out).

The same rules as single posts (``bot.storage.editions``, ``bot.storage.follows``), for a
day's worth of articles at once:

- a reader who follows several languages gets each story once, in the first of their
  languages in which it exists (a story in several languages is one article per
  language, linked by ``articles.alternates``); a story they already received in any
  language is left out;
- a reader who chose topics or keywords gets only the articles that match one of them
  (topics the catalog no longer lists do not count).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.storage.editions import alternate_languages
from bot.storage.models import ArticleRow
from bot.text.terms import text_terms


@dataclass(frozen=True, slots=True)
class Interests:
    """What narrows a reader's digest: languages in their order, chosen topics (those
    the catalog lists) and keyword terms."""

    languages: tuple[str, ...]
    topics: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()

    def matches(self, article: ArticleRow, topics: Collection[str]) -> bool:
        """Whether an article of the reader's regions is for them (``topics``: its own)."""
        if not self.topics and not self.keywords:
            return True
        if self.topics.intersection(topics):
            return True
        return bool(self.keywords) and not self.keywords.isdisjoint(
            text_terms(article.title, article.summary)
        )


def stories(articles: Sequence[ArticleRow]) -> list[list[ArticleRow]]:
    """The articles grouped by story: versions that link to one another by URL."""
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_url: dict[str, int] = {}
    for i, article in enumerate(articles):
        by_url.setdefault(article.canonical_url, i)
        by_url.setdefault(article.url, i)
    for i, article in enumerate(articles):
        for _, url in alternate_languages(article.alternates):
            j = by_url.get(url)
            if j is not None:
                parent[root(i)] = root(j)
    groups: dict[int, list[ArticleRow]] = {}
    for i, article in enumerate(articles):
        groups.setdefault(root(i), []).append(article)
    return list(groups.values())


def pick(
    articles: Sequence[ArticleRow],
    received: Collection[int],
    interests: Interests,
    topics: Mapping[int, Collection[str]],
) -> list[ArticleRow]:
    """One version per story the reader has not received, in their first language that
    has it, among the stories that match their interests; in the articles' order."""
    rank = {lang: i for i, lang in enumerate(interests.languages)}
    chosen: set[int] = set()
    for story in stories(articles):
        if any(a.id in received for a in story):
            continue
        best = min(story, key=lambda a: (rank.get(a.language, len(rank)), a.id))
        if interests.matches(best, topics.get(best.id, ())):
            chosen.add(best.id)
    return [a for a in articles if a.id in chosen]
