"""Catalog validation names every problem by its key (CONTRACT.md)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import load_catalog, parse_catalog
from bot.errors import ConfigError

VALID: dict[str, Any] = {
    "outlet": {
        "name": "Outlet",
        "site": "https://outlet.example",
        "default_language": "en",
        "languages": ["en", "ru"],
    },
    "regions": [
        {"code": "georgia", "name": {"en": "Georgia", "ru": "Грузия"}, "keywords": ["tbilisi"]},
        {"code": "armenia", "name": "Armenia", "timezone": "Asia/Yerevan"},
    ],
    "feeds": [{"url": "https://outlet.example/feed/", "language": "en", "regions": ["georgia"]}],
    "channels": [{"chat": "@outlet_georgia", "regions": ["georgia"], "language": "en"}],
    "donate": {
        "text": {"en": "Help"},
        "links": [{"label": "Give", "url": "https://outlet.example/d"}],
    },
}


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_catalog(data)
    return info.value.problems


def test_valid_catalog_loads() -> None:
    catalog = parse_catalog(VALID)
    assert catalog.languages == ["en", "ru"]
    assert catalog.region_name("georgia", "ru") == "Грузия"
    assert catalog.region_name("georgia", "ka") == "Georgia"  # falls back to the default
    assert catalog.feeds[0].interval == 180
    assert catalog.has_donations()


def test_unknown_keys_are_named() -> None:
    data = copy.deepcopy(VALID)
    data["feeds"][0]["intervall"] = 60
    data["surprise"] = 1
    problems = problems_of(data)
    assert "feeds[0].intervall: unknown key" in problems
    assert "surprise: unknown key" in problems


def test_unknown_region_and_language_are_named() -> None:
    data = copy.deepcopy(VALID)
    data["feeds"][0]["regions"] = ["atlantis"]
    data["channels"][0]["language"] = "de"
    problems = problems_of(data)
    assert "feeds[0].regions: unknown region code 'atlantis'" in problems
    assert "channels[0].language: 'de' is not in outlet.languages" in problems


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        ("feed", "htp:/broken", "feeds[0].url: malformed URL"),
        ("feed", "https://", "feeds[0].url: malformed URL"),
        ("site", "not a url", "outlet.site: malformed URL"),
        ("chat", "not-a-chat", "channels[0].chat:"),
    ],
)
def test_malformed_values_are_named(where: str, value: str, expected: str) -> None:
    data = copy.deepcopy(VALID)
    if where == "feed":
        data["feeds"][0]["url"] = value
    elif where == "site":
        data["outlet"]["site"] = value
    else:
        data["channels"][0]["chat"] = value
    problems = problems_of(data)
    assert any(p.startswith(expected) for p in problems), problems


def test_all_problems_reported_at_once() -> None:
    data = copy.deepcopy(VALID)
    data["regions"][0]["timezone"] = "Mars/Olympus"
    data["regions"][1]["code"] = "Not Valid"
    problems = problems_of(data)
    assert len(problems) >= 2
    assert any(p.startswith("regions[0].timezone") for p in problems)
    assert any(p.startswith("regions[1].code") for p in problems)


def test_numeric_chat_ids_become_ints() -> None:
    data = copy.deepcopy(VALID)
    data["channels"][0]["chat"] = "-1001234567890"
    assert parse_catalog(data).channels[0].chat == -1001234567890


def test_relative_file_urls_resolve_against_catalog_dir(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "catalog.toml").write_text(
        """
[outlet]
name = "O"
site = "https://o.example"
default_language = "en"
languages = ["en"]

[[feeds]]
url = "file://feeds/en.xml"
language = "en"
""",
        encoding="utf-8",
    )
    catalog = load_catalog(tmp_path / "catalog.toml")
    assert catalog.feeds[0].url == (tmp_path / "feeds" / "en.xml").as_uri()


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSBOT_CATALOG"):
        load_catalog(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[outlet\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_catalog(bad)


def test_region_categories_unmatched_and_wordpress_are_checked() -> None:
    data = copy.deepcopy(VALID)
    data["outlet"]["unmatched"] = "Atlantis!"
    data["regions"][0]["categories"] = {"en": ["Georgia"], "de": ["Georgien"]}
    data["feeds"][0]["wordpress"] = True
    problems = problems_of(data)
    assert "outlet.unmatched: 'Atlantis!' must be 'none', 'all' or a region code" in problems
    assert any(p.startswith("feeds[0].wordpress: give the REST base URL") for p in problems)
    data["outlet"]["unmatched"] = "atlantis"
    data["feeds"][0]["wordpress"] = False
    problems = problems_of(data)
    assert "regions[0].categories.de: 'de' is not in outlet.languages" in problems
    assert "outlet.unmatched: unknown region code 'atlantis'" in problems
    data["outlet"]["unmatched"] = "armenia"
    data["regions"][0]["categories"] = ["Georgia", "georgia-news"]
    catalog = parse_catalog(data)
    assert catalog.outlet.unmatched == "armenia"
    assert catalog.feeds[0].wordpress is False and catalog.feeds[0].wordpress_base is None
    assert parse_catalog(VALID).outlet.unmatched == "none"


def test_topics_are_checked() -> None:
    data = copy.deepcopy(VALID)
    data["topics"] = [
        {"code": "economy", "name": {"en": "Economy", "de": "Wirtschaft"}, "categories": ["x"]},
        {"code": "economy", "name": "Economy again", "keywords": ["lari"]},
        {"code": "en", "name": "English?", "categories": {"fr": ["anglais"]}},
        {"code": "Culture!", "name": "Culture"},
        {"code": "sport", "name": "Sport"},
    ]
    problems = problems_of(data)
    assert "topics[0].name.de: 'de' is not in outlet.languages" in problems
    assert "topics[1].code: 'economy' is declared twice" in problems
    assert "topics[2].code: 'en' is also a language code" in problems
    assert "topics[2].categories.fr: 'fr' is not in outlet.languages" in problems
    assert "topics[3].code: 'Culture!' must match [a-z0-9_]+" in problems
    assert "topics[4]: give categories or keywords, or no article will match" in problems
    data["topics"] = [{"code": "economy", "name": {"en": "Economy"}, "categories": ["biz"]}]
    catalog = parse_catalog(data)
    assert catalog.topic_name("economy", "ru") == "Economy" and catalog.topic("culture") is None
