"""The rules that span sections: region codes and languages must be declared, topics
must not read as languages, and nothing is listed twice."""

from __future__ import annotations

from collections.abc import Mapping

from bot.catalog.sections import Catalog, LocalizedText, Region, Topic


def cross_check(catalog: Catalog) -> list[str]:
    """Rules that span sections: region codes and languages must be declared."""
    langs = set(catalog.languages)
    return [
        *_region_problems(catalog, langs),
        *_topic_problems(catalog),
        *_placement_problems(catalog, langs),
        *_listed_twice(catalog),
        *_localized_problems(catalog, langs),
    ]


def _region_problems(catalog: Catalog, langs: set[str]) -> list[str]:
    """Regions: unique codes, names and categories in declared languages."""
    problems: list[str] = []
    codes = [r.code for r in catalog.regions]
    for i, region in enumerate(catalog.regions):
        if codes.count(region.code) > 1 and codes.index(region.code) != i:
            problems.append(f"regions[{i}].code: {region.code!r} is declared twice")
        problems += _name_and_categories(f"regions[{i}]", region, langs)
    return problems


def _placement_problems(catalog: Catalog, langs: set[str]) -> list[str]:
    """Where articles go: feeds, channels and ``outlet.unmatched`` name declared regions,
    feeds and channels declared languages."""
    problems: list[str] = []
    known = {r.code for r in catalog.regions}
    unmatched = catalog.outlet.unmatched
    if unmatched not in ("none", "all") and unmatched not in known:
        problems.append(f"outlet.unmatched: unknown region code {unmatched!r}")
    placed: list[tuple[str, list[str], str]] = [
        *((f"feeds[{i}]", f.regions, f.language) for i, f in enumerate(catalog.feeds)),
        *((f"channels[{i}]", c.regions, c.language) for i, c in enumerate(catalog.channels)),
    ]
    for where, regions, language in placed:
        for code in regions:
            if code not in known:
                problems.append(f"{where}.regions: unknown region code {code!r}")
        if language not in langs:
            problems.append(f"{where}.language: {language!r} is not in outlet.languages")
    return problems


def _listed_twice(catalog: Catalog) -> list[str]:
    """A feed URL, or a channel's chat and thread, listed a second time."""
    problems: list[str] = []
    seen_urls: set[str] = set()
    for i, feed in enumerate(catalog.feeds):
        if feed.url in seen_urls:
            problems.append(f"feeds[{i}].url: {feed.url!r} is listed twice")
        seen_urls.add(feed.url)
    destinations = [(c.chat, c.thread) for c in catalog.channels]
    for i, dest in enumerate(destinations):
        if destinations.index(dest) != i:
            problems.append(f"channels[{i}].chat: {dest[0]!r} is listed twice")
    return problems


def _localized_problems(catalog: Catalog, langs: set[str]) -> list[str]:
    """Per-language values elsewhere (breaking terms, most-read URLs, donations) keyed by
    declared languages."""
    problems: list[str] = []
    if isinstance(catalog.outlet.breaking, dict):
        problems += _localized_keys("outlet.breaking", catalog.outlet.breaking, langs)
    if isinstance(catalog.mostread.url, dict):
        problems += _localized_keys("mostread.url", catalog.mostread.url, langs)
    if catalog.donate:
        problems += _localized_keys("donate.text", catalog.donate.text, langs)
        for i, link in enumerate(catalog.donate.links):
            problems += _localized_keys(f"donate.links[{i}].label", link.label, langs)
            problems += _localized_keys(f"donate.links[{i}].url", link.url, langs)
    return problems


def _topic_problems(catalog: Catalog) -> list[str]:
    """Topics: unique codes that cannot be read as a language in a deep link
    (``georgia-en-economy``), names and categories in declared languages, and something
    to match articles by."""
    problems: list[str] = []
    langs = set(catalog.languages)
    codes = [t.code for t in catalog.topics]
    for i, topic in enumerate(catalog.topics):
        where = f"topics[{i}]"
        if codes.index(topic.code) != i:
            problems.append(f"{where}.code: {topic.code!r} is declared twice")
        if topic.code in langs:
            problems.append(f"{where}.code: {topic.code!r} is also a language code")
        if not topic.categories and not topic.keywords:
            problems.append(f"{where}: give categories or keywords, or no article will match")
        problems += _name_and_categories(where, topic, langs)
    return problems


def _name_and_categories(where: str, named: Region | Topic, langs: set[str]) -> list[str]:
    """A region's or topic's name and categories, when given per language, in declared
    languages."""
    problems = _localized_keys(f"{where}.name", named.name, langs)
    if isinstance(named.categories, dict):
        problems += _localized_keys(f"{where}.categories", named.categories, langs)
    return problems


def _localized_keys(
    where: str, value: LocalizedText | Mapping[str, object], langs: set[str]
) -> list[str]:
    if isinstance(value, str):
        return []
    return [f"{where}.{k}: {k!r} is not in outlet.languages" for k in value if k not in langs]
