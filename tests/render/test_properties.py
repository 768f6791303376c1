"""Property: whatever the feed sends, the post is valid Telegram HTML within the limit."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import Button
from bot.outbox.render import render_list, render_post, split_html_blocks
from bot.text.utf16 import utf16_len
from tests.render.strict_html import parse_strict

# Text with a strong bias towards the characters that break naive renderers.
_NASTY = st.sampled_from(
    ["<", ">", "&", '"', "'", "&amp;", "<b>", "</a>", "\x00", "\u202e", "\u200d", "👩‍👧", "🇬🇪",
     "ა", "Ա", "։", ". ", "\n", " ", "javascript:", "#", "_"]
)  # fmt: skip
TEXT = st.one_of(st.text(), st.lists(_NASTY | st.text(max_size=5)).map("".join))
URL = st.one_of(
    TEXT,
    st.builds("https://example.org/{}".format, TEXT),
    st.sampled_from(["javascript:alert(1)", "https://", "http://a.b/c?d=1&e=2"]),
)
LIMIT = st.one_of(st.sampled_from([1024, 4096]), st.integers(min_value=1, max_value=400))


def _bot_api_parse() -> Callable[[str], Any] | None:
    """The project's Bot API HTML parser when present (it is written alongside)."""
    try:
        module = importlib.import_module("tests.fakes.html_rules")
    except ImportError:
        return None
    parse: Callable[[str], Any] = module.parse_telegram_html
    return parse


BOT_API_PARSE = _bot_api_parse()


def _assert_valid(text: str, limit: int) -> None:
    parsed = parse_strict(text)
    assert parsed.utf16_length <= limit
    if BOT_API_PARSE is not None:
        plain, _entities = BOT_API_PARSE(text)
        assert utf16_len(plain) <= limit


@settings(max_examples=300, deadline=None)
@given(
    title=TEXT,
    summary=TEXT,
    url=URL,
    tags=st.lists(TEXT, max_size=6),
    limit=LIMIT,
    breaking=st.booleans(),
)
def test_render_post_is_always_valid(
    title: str, summary: str, url: str, tags: list[str], limit: int, breaking: bool
) -> None:
    message = render_post(
        title=title,
        url=url,
        summary=summary,
        hashtags=tags,
        read_more=Button(text="Read more", url=url),
        extra_buttons=[[Button(text=title, url=url)]],
        limit=limit,
        breaking=breaking,
    )
    _assert_valid(message.text, limit)
    for row in message.buttons:
        for button in row:
            assert button.text.strip()
            assert button.url is not None
            assert button.url.startswith(("http://", "https://"))


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.tuples(TEXT, URL, st.lists(TEXT, max_size=3)), max_size=30),
    limit=st.integers(min_value=30, max_value=4096),
)
def test_render_list_and_split_are_always_valid(
    items: list[tuple[str, str, list[str]]], limit: int
) -> None:
    text = render_list(heading="<b>Most read</b>", items=items, footer="<i>note</i>", limit=limit)
    _assert_valid(text, limit)
    blocks = [text, *(render_list(heading=f"<b>{i}</b>", items=items, limit=limit) for i in "ab")]
    for message in split_html_blocks(blocks, limit):
        _assert_valid(message, limit)
