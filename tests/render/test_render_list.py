"""Numbered lists (most-read, digests) and packing long digests into messages."""

from __future__ import annotations

import pytest

from bot.outbox.clean import visible_length
from bot.outbox.render import MAX_ENTITIES, render_list, split_html_blocks
from tests.render.strict_html import parse_strict


def test_numbered_linked_titles_with_tags() -> None:
    text = render_list(
        heading="<b>Most read</b>",
        items=[
            ("First & best", "https://e.org/1", ["georgia"]),
            ("<Second>", "javascript:alert(1)", ["armenia", "South Ossetia"]),
            ("Third", "https://e.org/3", []),
        ],
        footer="<i>Updated hourly</i>",
    )
    assert text == (
        "<b>Most read</b>\n\n"
        '1. <a href="https://e.org/1">First &amp; best</a> #georgia\n'
        "2. &lt;Second&gt; #armenia #South_Ossetia\n"
        '3. <a href="https://e.org/3">Third</a>\n\n'
        "<i>Updated hourly</i>"
    )
    parse_strict(text)


def test_items_that_do_not_fit_are_dropped_and_numbering_stays_consecutive() -> None:
    items = [
        ("short one", "https://e.org/1", ["georgia"]),
        ("very long " * 30, "https://e.org/2", ["georgia"]),
        ("short two", "https://e.org/3", ["georgia"]),
    ]
    text = render_list(heading="<b>Top</b>", items=items, limit=60)
    parsed = parse_strict(text)
    assert parsed.utf16_length <= 60
    assert '1. <a href="https://e.org/1">short one</a>' in text
    assert '2. <a href="https://e.org/3">short two</a>' in text
    assert "e.org/2" not in text


def test_long_titles_in_lists_are_shortened() -> None:
    text = render_list(heading="H", items=[("word " * 100, "https://e.org/1", [])])
    assert "…</a>" in text
    assert visible_length(text) < 230


def test_items_without_title_or_link_are_skipped() -> None:
    text = render_list(
        heading="H", items=[("  ", "", []), ("\x00", "nope", []), ("", "https://e.org/x", [])]
    )
    assert text == 'H\n\n1. <a href="https://e.org/x">https://e.org/x</a>'


def test_entity_budget_is_respected() -> None:
    items = [(f"t{i}", f"https://e.org/{i}", ["georgia"]) for i in range(200)]
    text = render_list(heading="<b>H</b>", items=items)
    parsed = parse_strict(text)
    hashtags = text.count("#georgia")
    assert parsed.entities + hashtags <= MAX_ENTITIES
    assert hashtags == 49  # 1 heading + 49 * (link + hashtag) = 99; a 50th would exceed


def test_heading_and_footer_over_limit_is_an_error() -> None:
    with pytest.raises(ValueError, match="exceed"):
        render_list(heading="x" * 50, items=[], footer="y" * 50, limit=90)


def test_empty_list_is_heading_and_footer() -> None:
    assert render_list(heading="<b>H</b>", items=[], footer="F") == "<b>H</b>\n\nF"


def _block(i: int, size: int) -> str:
    return f"<b>{i}</b> " + "&amp;" * (size - len(str(i)) - 1)


def test_split_packs_in_order_into_as_few_messages_as_fit() -> None:
    blocks = [_block(i, 1000) for i in range(10)]
    messages = split_html_blocks(blocks, limit=4096)
    assert len(messages) == 3  # 4 blocks take 4000 + 3 * 2 separators
    assert "\n\n".join(messages) == "\n\n".join(blocks)
    for message in messages:
        assert parse_strict(message).utf16_length <= 4096


def test_split_starts_a_new_message_only_when_the_next_block_does_not_fit() -> None:
    sizes = [3000, 1000, 1094, 5, 4096, 1]
    messages = split_html_blocks([_block(i, n) for i, n in enumerate(sizes)], limit=4096)
    lengths = [visible_length(m) for m in messages]
    assert lengths == [4002, 1094 + 2 + 5, 4096, 1]


def test_split_respects_the_entity_budget() -> None:
    blocks = ["<b>x</b> <i>y</i>"] * 120
    messages = split_html_blocks(blocks)
    assert [parse_strict(m).entities for m in messages] == [100, 100, 40]


def test_split_skips_blank_blocks_and_rejects_oversized_ones() -> None:
    assert split_html_blocks(["", "  ", "<b>a</b>", "\n"]) == ["<b>a</b>"]
    assert split_html_blocks([]) == []
    with pytest.raises(ValueError, match="block 1"):
        split_html_blocks(["ok", "x" * 101], limit=100)
