"""Regions from categories, URL path and title, case-folded for all five scripts."""

from __future__ import annotations

import pytest

from bot.catalog import Region
from bot.domain import FeedEntry
from scheduler.classify import RegionMatcher

MATCHER = RegionMatcher.from_regions(
    [
        Region(
            code="georgia",
            name="Georgia",
            keywords=["georgia", "tbilisi*", "грузи*", "საქართველო", "თბილის*", "gürcüstan"],
        ),
        Region(
            code="armenia",
            name="Armenia",
            keywords=["armenia", "yerevan", "армени*", "հայաստան*", "երևան*", "ermənistan"],
        ),
        Region(
            code="azerbaijan",
            name="Azerbaijan",
            keywords=["azerbaijan", "baku", "azərbaycan", "bakı", "i̇srafil"],
        ),
        Region(code="south_ossetia", name="South Ossetia", keywords=["tskhinvali", "цхинвал*"]),
    ]
)


def entry(
    title: str = "", url: str = "https://news.example/2026/story/", categories: tuple[str, ...] = ()
) -> FeedEntry:
    return FeedEntry(guid="", url=url, title=title, categories=categories)


@pytest.mark.parametrize(
    ("item", "lang", "regions"),
    [
        (entry("GÜRCÜSTAN və ERMƏNİSTAN danışıqları"), "az", ("georgia", "armenia")),
        (entry("BAKI şəhərində yeni metro stansiyası"), "az", ("azerbaijan",)),
        (entry("Bakı: AZƏRBAYCAN prezidenti"), "az", ("azerbaijan",)),
        (entry("GEORGIA and Azerbaijan sign a deal"), "az", ("georgia", "azerbaijan")),
        (entry("İsrafil Məmmədov danışdı"), "az", ("azerbaijan",)),
        (entry("ISRAFIL says"), "az", ()),  # Turkic I is dotless ı: not İsrafil
        (entry("В ГРУЗИИ прошли выборы"), "ru", ("georgia",)),
        (entry("Визит в Армению"), "ru", ("armenia",)),
        (entry("თბილისში ახალი მეტრო"), "ka", ("georgia",)),
        (entry("ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ"), "ka", ("georgia",)),  # Mtavruli capitals
        (entry("ԵՐԵՎԱՆՈՒՄ բացվեց նոր թանգարան"), "hy", ("armenia",)),
        (entry("Tbilisi's new line", categories=("Politics",)), "en", ("georgia",)),
        (entry("A story", categories=("Yerevan",)), "en", ("armenia",)),
        (
            entry("A story", url="https://news.example/south-ossetia/tskhinvali-news/"),
            "en",
            ("south_ossetia",),
        ),
        (entry("Georgians abroad"), "en", ()),  # whole words only unless the keyword says *
        (entry("Weather across the region"), "en", ()),  # outlet-wide
    ],
)
def test_keywords_in_five_scripts(item: FeedEntry, lang: str, regions: tuple[str, ...]) -> None:
    assert MATCHER.classify(item, (), lang) == regions


def test_per_feed_regions_win_over_keywords() -> None:
    item = entry("Yerevan and Baku talks", categories=("Armenia",))
    assert MATCHER.classify(item, ("georgia",), "en") == ("georgia",)
    assert MATCHER.classify(item, ("georgia", "georgia", "armenia"), "en") == ("georgia", "armenia")


TAGGED = RegionMatcher.from_regions(
    [
        Region(
            code="georgia",
            name="Georgia",
            keywords=["georgia", "tbilisi*"],
            categories={"en": ["Georgia"], "ru": ["Грузия"], "az": ["Gürcüstan"]},
        ),
        Region(code="armenia", name="Armenia", keywords=["armenia"], categories=["Armenia"]),
        Region(
            code="south_ossetia",
            name="South Ossetia",
            keywords=["tskhinvali"],
            categories={"en": ["south-ossetia"], "ru": ["Южная Осетия"]},
        ),
    ]
)


def test_categories_win_over_keywords() -> None:
    story = entry("Georgian PM welcomes the Armenia deal", categories=("Georgia", "Politics"))
    assert TAGGED.classify(story, (), "en") == ("georgia",)
    untagged = entry("Georgian PM welcomes the Armenia deal", categories=("Politics",))
    assert TAGGED.classify(untagged, (), "en") == ("armenia",)  # keywords: whole words only


@pytest.mark.parametrize(
    ("categories", "lang", "regions"),
    [
        (("South Ossetia",), "en", ("south_ossetia",)),  # a name meets the catalog's slug
        (("SOUTH_OSSETIA",), "en", ("south_ossetia",)),
        (
            ("%D0%AE%D0%B6%D0%BD%D0%B0%D1%8F-%D0%BE%D1%81%D0%B5%D1%82%D0%B8%D1%8F",),
            "ru",
            ("south_ossetia",),
        ),
        (("ЮЖНАЯ ОСЕТИЯ",), "ru", ("south_ossetia",)),
        (("Грузия",), "en", ()),  # the Russian list is for Russian articles
        (("GÜRCÜSTAN",), "az", ("georgia",)),
        (("Armenia",), "hy", ("armenia",)),  # a flat list serves every language
        (("Armenian wine",), "en", ()),  # whole terms, not words inside them
    ],
)
def test_categories_match_names_and_slugs_per_language(
    categories: tuple[str, ...], lang: str, regions: tuple[str, ...]
) -> None:
    assert TAGGED.by_categories(categories, lang) == regions


def test_unmatched_articles_go_to_the_region_the_catalog_names() -> None:
    regions = [Region(code="georgia", name="Georgia", keywords=["georgia"])]
    story = entry("Oil prices slide", categories=("World",))
    assert RegionMatcher.from_regions(regions, "georgia").classify(story, (), "en") == ("georgia",)
    for choice in ("none", "all"):
        assert RegionMatcher.from_regions(regions, choice).classify(story, (), "en") == ()
