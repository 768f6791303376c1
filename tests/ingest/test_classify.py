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
