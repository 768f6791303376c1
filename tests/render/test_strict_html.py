"""The test validator must refuse what Telegram refuses, or the render tests prove nothing."""

from __future__ import annotations

import pytest

from tests.render.strict_html import InvalidHTML, parse_strict


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold",
        "bold</b>",
        "<b><i>x</b></i>",
        "<script>x</script>",
        "a < b",
        "a > b",
        "Tom & Jerry",
        "&nbsp;",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="https://a.example"><a href="https://b.example">x</a></a>',
        '<b onclick="x">x</b>',
        "<b>x</b\n",
        "x\x00y",
        "&#0;",
        "<b></b>",
        "   ",
    ],
)
def test_refuses_invalid(text: str) -> None:
    with pytest.raises(InvalidHTML):
        parse_strict(text)


def test_accepts_and_measures_valid() -> None:
    parsed = parse_strict('<b><a href="https://e.example/?a=1&amp;b=2">T &amp; J</a></b>\n😀 &lt;')
    assert parsed.plain == "T & J\n😀 <"
    assert parsed.utf16_length == 10
    assert parsed.entities == 2
