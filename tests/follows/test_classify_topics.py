"""Articles get their topics from the newsroom's categories and tags, then keywords."""

from __future__ import annotations

from bot.catalog import Topic
from bot.domain import FeedEntry
from scheduler.classify import RegionMatcher

TOPICS = [
    Topic(
        code="economy",
        name="Economy",
        categories={"en": ["Economy"], "ru": ["Экономика"], "ka": ["ეკონომიკა"]},
    ),
    Topic(code="transport", name="Transport", categories=["Transport", "Транспорт"]),
    Topic(code="energy", name="Energy", keywords=["pipeline*", "газопровод*"]),
]
MATCHER = RegionMatcher.from_topics(TOPICS)


def entry(title: str, *categories: str, url: str = "https://example.org/story/") -> FeedEntry:
    return FeedEntry(guid="", url=url, title=title, categories=categories)


def test_categories_per_language_and_for_every_language() -> None:
    assert MATCHER.topics(entry("x", "ECONOMY", "transport"), "en") == ("economy", "transport")
    assert MATCHER.topics(entry("x", "экономика"), "ru") == ("economy",)
    assert MATCHER.topics(entry("x", "Экономика"), "en") == ()  # the Russian list only
    assert MATCHER.topics(entry("x", "ᲔᲙᲝᲜᲝᲛᲘᲙᲐ"), "ka") == ("economy",)
    assert MATCHER.topics(entry("x", "Транспорт"), "az") == ("transport",)


def test_keywords_only_when_no_category_names_a_topic() -> None:
    assert MATCHER.topics(entry("New Pipelines planned"), "en") == ("energy",)
    assert MATCHER.topics(entry("Газопровод в Армению"), "ru") == ("energy",)
    assert MATCHER.topics(entry("New pipeline", "Economy"), "en") == ("economy",)
    assert MATCHER.topics(entry("Nothing here", "Weather"), "en") == ()
