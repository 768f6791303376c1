"""Catalog problems name their block and line, and one bad block hides no other problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import load_catalog, parse_catalog
from bot.errors import ConfigError
from tests.config.test_catalog import VALID

CATALOG = """\
[outlet]
name = "O"
site = "https://o.example"
default_language = "en"
languages = ["en"]
colour = "blue"

[[regions]]
code = "georgia"
name = "Georgia"
timezone = "Mars/Base"

[[feeds]]
url = "notaurl"
language = "en"

[[feeds]]
url = "https://o.example/feed"
language = "en"
regions = ["georgia"]
intervall = 5

[[channels]]
chat = "@some_channel"
language = "en"
regions = ["georgia"]

[[channels]]  # the second one
chat = "@other_channel"
language = "en"
regions = ["mars"]
"""


def load_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    return info.value.problems


def test_every_problem_names_its_block_and_line(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, CATALOG)
    assert problems == [
        "outlet.colour: unknown key (line 6)",
        "regions[0].timezone: unknown timezone 'Mars/Base' (region georgia, line 11)",
        "feeds[0].url: malformed URL 'notaurl': scheme must be one of http, https, file"
        " (feed notaurl, line 14)",
        "feeds[1].intervall: unknown key (feed https://o.example/feed, line 21)",
        "channels[1].regions: unknown region code 'mars' (channel @other_channel, line 31)",
    ]


def test_headers_inside_multiline_strings_are_not_blocks(tmp_path: Path) -> None:
    text = CATALOG.replace(
        'name = "O"\n', 'name = "O"\ndescription = """\n[[channels]]\nnot a block\n"""\n'
    )
    problems = load_problems(tmp_path, text)
    # The key is unknown too; the channel is still found four lines further down.
    assert "outlet.description: unknown key (line 3)" in problems
    assert any(p.endswith("(channel @other_channel, line 35)") for p in problems), problems


def test_a_malformed_feed_does_not_hide_later_channel_errors() -> None:
    data: dict[str, Any] = copy.deepcopy(VALID)
    data["feeds"].insert(0, {"url": "htp:/broken", "language": "en"})
    data["channels"].append({"chat": "@second_channel", "regions": ["mars"], "language": "de"})
    problems = problems_of(data)
    assert any(p.startswith("feeds[0].url: malformed URL") for p in problems), problems
    assert "channels[1].regions: unknown region code 'mars'" in problems
    assert "channels[1].language: 'de' is not in outlet.languages" in problems


def test_positions_after_a_removed_block_are_the_files() -> None:
    data: dict[str, Any] = copy.deepcopy(VALID)
    good = data["feeds"][0]
    data["feeds"] = [{"language": "en"}, {"url": "https://x.example/f", "language": "en"}, good]
    data["feeds"].append(dict(good))
    problems = problems_of(data)
    assert "feeds[0].url: required key is missing" in problems
    assert f"feeds[3].url: {good['url']!r} is listed twice" in problems, problems


def test_a_catalog_without_outlet_reports_that_alone() -> None:
    data: dict[str, Any] = copy.deepcopy(VALID)
    del data["outlet"]
    assert problems_of(data) == ["outlet: required key is missing"]


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_catalog(data)
    return info.value.problems
