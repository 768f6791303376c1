"""Search rules as data: what a query asks, what is stored, and the order of results."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.text.search import parse_query, rank, searchable, stem

NOW = datetime(2026, 12, 3, 12, 0)


def test_queries_fold_like_regions_and_keep_words_only() -> None:
    assert parse_query("  Всё о ВЫБОРАХ!  ").words == ("все", "о", "выборах")
    assert parse_query("İSTANBUL, Bakı").words == ("istanbul", "baki")
    assert parse_query("ᲗᲑᲘᲚᲘᲡᲘ").words == ("თბილისი",)
    assert parse_query("ԵՐԵՎԱՆ՞").words == ("երեվան",)
    assert parse_query("a a a").words == ("a",)
    assert len(parse_query(" ".join(f"w{n}" for n in range(30))).words) == 8


def test_story_ids_blank_and_hopeless_queries() -> None:
    assert parse_query("#42").story_id == 42
    assert parse_query("#42 x").story_id is None
    assert parse_query("").blank and not parse_query("").hopeless
    assert parse_query("%_' --").hopeless
    assert not parse_query("#x").blank


def test_long_words_are_found_in_other_forms() -> None:
    assert stem("переговоры") == "перегово"
    assert stem("tbilisi") == "tbili"
    assert stem("vote") == "vote"
    assert parse_query("переговоры").stems == ("перегово",)


def test_searchable_keeps_title_and_summary_apart() -> None:
    assert searchable("Всё\nо Ё", "Bakı  İS") == "все о е\nbaki is"


def test_title_beats_summary_and_newer_beats_older() -> None:
    words = parse_query("tariff").words
    candidates = [
        (1, searchable("Budget", "the tariff talks"), NOW),
        (2, searchable("Tariff talks stall", ""), NOW - timedelta(days=10)),
        (3, searchable("Tariff talks resume", ""), NOW - timedelta(hours=1)),
        (4, searchable("Tariffs", ""), NOW - timedelta(hours=1)),
    ]
    assert [s.id for s in rank(candidates, words, NOW, 10)] == [3, 4, 2, 1]
    assert [s.id for s in rank(candidates, words, NOW, 2)] == [3, 4]


def test_an_empty_query_ranks_by_age_only() -> None:
    candidates = [(1, "a\n", NOW - timedelta(days=2)), (2, "b\n", NOW - timedelta(hours=1))]
    assert [s.id for s in rank(candidates, (), NOW, 5)] == [2, 1]
