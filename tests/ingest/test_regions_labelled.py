"""Regions on the labelled set: at least 100 articles in five languages, precision ≥ 0.95."""

from __future__ import annotations

from collections import Counter

from tests.ingest.labelled_regions import LANGUAGES, example_matcher, load_labelled, score

TARGET_PRECISION = 0.95


def test_the_labelled_set_covers_every_language_and_region_and_stories_of_none() -> None:
    items = load_labelled()
    assert len(items) >= 100
    per_language = Counter(item.lang for item in items)
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= 20
    regions = Counter(code for item in items for code in item.expected)
    assert set(regions) == {"georgia", "armenia", "azerbaijan", "abkhazia", "south_ossetia"}
    assert sum(1 for item in items if not item.expected) >= 20


def test_precision_on_the_labelled_set_meets_the_target() -> None:
    scores = score(load_labelled(), example_matcher())
    overall = scores["all"]
    wrong = [(i.lang, i.entry.title, sorted(i.expected), got) for i, got in overall.wrong]
    assert overall.precision >= TARGET_PRECISION, wrong
    for lang in LANGUAGES:
        assert scores[lang].precision >= 0.9, (lang, wrong)
        assert scores[lang].recall >= 0.7, (lang, wrong)


def test_the_newsrooms_categories_make_it_more_precise_than_keywords_alone() -> None:
    items = load_labelled()
    with_categories = score(items, example_matcher())["all"]
    keywords_only = score(items, example_matcher(categories=False))["all"]
    assert with_categories.false_positives < keywords_only.false_positives
    assert with_categories.recall >= keywords_only.recall
