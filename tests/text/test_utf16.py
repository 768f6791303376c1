"""UTF-16 lengths and safe truncation, as Telegram counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text.utf16 import truncate_utf16, utf16_len

FAMILY = "👨\u200d👩\u200d👧"  # three people joined by ZWJ: 8 units
THUMBS = "👍🏽"  # thumbs up + skin tone: 4 units
FLAG_GE = "🇬🇪"  # two regional indicators: 4 units
KEYCAP = "1\ufe0f\u20e3"  # 3 units
HEART = "❤\ufe0f"  # BMP heart + variation selector: 2 units


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("საქართველო", 10),
        ("Հայաստան", 8),
        ("😀", 2),
        (FAMILY, 8),
        (THUMBS, 4),
        (FLAG_GE, 4),
        (KEYCAP, 3),
        ("a\ud800b", 3),  # a lone surrogate counts one unit, without raising
    ],
)
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_truncate_keeps_short_text() -> None:
    assert truncate_utf16("hello", 5) == "hello"
    assert truncate_utf16("hello", 4) == "hell"
    assert truncate_utf16("hello", 0) == ""
    assert truncate_utf16("hello", -3) == ""


def test_truncate_never_splits_a_surrogate_pair() -> None:
    assert truncate_utf16("ab😀", 3) == "ab"
    assert truncate_utf16("ab😀", 4) == "ab😀"


@pytest.mark.parametrize("cluster", [FAMILY, THUMBS, FLAG_GE, KEYCAP, HEART, "e\u0301"])
def test_truncate_never_splits_a_cluster(cluster: str) -> None:
    text = "ab" + cluster + "cd"
    for limit in range(2, 2 + utf16_len(cluster)):
        assert truncate_utf16(text, limit) == "ab", limit
    assert truncate_utf16(text, 2 + utf16_len(cluster)) == "ab" + cluster


def test_truncate_keeps_whole_flags_in_a_row() -> None:
    flags = FLAG_GE + "🇦🇲" + "🇦🇿"
    assert truncate_utf16(flags, 10) == FLAG_GE + "🇦🇲"
    assert truncate_utf16(flags, 6) == FLAG_GE


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_truncate_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    result = truncate_utf16(text, limit)
    assert text.startswith(result)
    assert utf16_len(result) <= limit
    if utf16_len(text) <= limit:
        assert result == text
