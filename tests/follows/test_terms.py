"""Keyword terms: the reader's keyword and the article's text meet in one folded form."""

from __future__ import annotations

import pytest

from bot.text.terms import MAX_TERMS, keyword_term, text_terms


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("Karabakh", "Talks on NAGORNO-KARABAKH resume"),
        ("ГРУЗИЯ", "Выборы: грузия голосует"),
        ("ёлка", "Новогодняя елка в Тбилиси"),
        ("თბილისი", "ᲗᲑᲘᲚᲘᲡᲘ: ახალი მეტრო"),  # Mtavruli capitals meet Mkhedruli
        ("Երևան", "ԵՐԵՎԱՆ. նոր կամուրջ"),  # the ligature and its capital spelling
        ("Հայաստա՞ն", "Հայաստան և Վրաստան"),  # an in-word question mark
        ("İstanbul", "Flights to ISTANBUL resume"),
        ("Şəki", "ŞƏKİ festivalı"),
        ("грузи*", "Премьер Грузии заявил"),
        ("south caucasus", "Trade in the South  Caucasus grows"),
    ],
)
def test_a_keyword_is_found_whatever_the_case_and_marks(keyword: str, text: str) -> None:
    term = keyword_term(keyword)
    assert term is not None and term in text_terms(text)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("Karabakh", "Karabakhi refugees"),  # whole words only, unless a prefix
        ("грузия", "Премьер Грузии заявил"),
        ("gas", "Gasoline prices"),
        ("south caucasus", "south of the caucasus"),
    ],
)
def test_other_words_do_not_match(keyword: str, text: str) -> None:
    term = keyword_term(keyword)
    assert term is not None and term not in text_terms(text)


@pytest.mark.parametrize("keyword", ["", "  ", "*", "гр*", "one two three four", "x" * 200])
def test_unusable_keywords_are_refused(keyword: str) -> None:
    assert keyword_term(keyword) is None


def test_a_long_text_gives_a_bounded_number_of_terms() -> None:
    text = " ".join(f"word{i}abcdefgh" for i in range(5000))
    assert len(text_terms(text)) == MAX_TERMS
