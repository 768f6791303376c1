"""The labelled region set (``data/regions.jsonl``) and its scoring, shared by the test
and ``bench/regions.py``.

Each line is one article as the outlet's WordPress feeds give it: language, title,
categories and tags, URL, summary, and the regions an editor would file it under
(empty for stories about no region: world news, markets, opinion). Scores count
(article, region) pairs, so an article filed under two regions counts twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.catalog import load_catalog
from bot.domain import FeedEntry
from scheduler.classify import RegionMatcher

DATA = Path(__file__).resolve().parent / "data" / "regions.jsonl"
EXAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "catalog.example.toml"
LANGUAGES = ("en", "ru", "ka", "hy", "az")


@dataclass(frozen=True, slots=True)
class Labelled:
    lang: str
    entry: FeedEntry
    expected: frozenset[str]


@dataclass
class Score:
    """Pair counts for one language (or all of them), and the articles it got wrong."""

    articles: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    wrong: list[tuple[Labelled, tuple[str, ...]]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def add(self, item: Labelled, predicted: tuple[str, ...]) -> None:
        got = set(predicted)
        self.articles += 1
        self.true_positives += len(got & item.expected)
        self.false_positives += len(got - item.expected)
        self.false_negatives += len(item.expected - got)
        if got != item.expected:
            self.wrong.append((item, predicted))


def load_labelled(path: Path = DATA) -> list[Labelled]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        entry = FeedEntry(
            guid=raw["url"],
            url=raw["url"],
            title=raw["title"],
            summary_html=raw["summary"],
            categories=tuple(raw["categories"]),
        )
        items.append(Labelled(raw["lang"], entry, frozenset(raw["regions"])))
    return items


def example_matcher(*, categories: bool = True) -> RegionMatcher:
    """The example catalog's classifier (without its categories: keywords alone)."""
    matcher = RegionMatcher.from_catalog(load_catalog(EXAMPLE_CATALOG))
    return matcher if categories else replace(matcher, categories=())


def score(items: Iterable[Labelled], matcher: RegionMatcher) -> dict[str, Score]:
    """Scores per language and ``"all"``, classifying as ingestion does."""
    scores = {lang: Score() for lang in (*LANGUAGES, "all")}
    for item in items:
        predicted = matcher.classify(item.entry, (), item.lang)
        scores[item.lang].add(item, predicted)
        scores["all"].add(item, predicted)
    return scores
