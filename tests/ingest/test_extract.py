"""Summaries from the article page when the feed gives only a teaser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.text.summarize import summarize
from scheduler.extract import decode_page, extract_page
from tests.fakes.feedserver import FeedServer, wordpress_feed
from tests.ingest.support import article_page, articles, catalog_for, rig

LEAD = (
    "The Georgian capital opened its first new metro station in a decade on Monday, "
    "connecting the university district to the centre."
)
BODY = [
    "Mayor Kakha Kaladze cut the ribbon at the station on Monday morning. Thousands of "
    "passengers used the line on its first day, according to the city transport company.",
    "Construction began in 2017 and was stopped twice because of funding problems. The new "
    "line is 2.5 kilometres long and has two stations.",
]
PAGE = article_page("Tbilisi opens a new metro line", LEAD, BODY)
ASIDES = ("Most read", "border deal", "climate conference", "Independent journalism", "©")


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def test_page_yields_the_article_not_the_asides() -> None:
    page = extract_page(PAGE, "https://caucasus-wire.example/georgia/101/")
    assert LEAD in page.text and BODY[1] in page.text
    for aside in ASIDES:
        assert aside not in page.text
    assert page.title == "Tbilisi opens a new metro line"
    assert page.published == datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
    assert page.sections == ("Georgia",)
    assert page.language == "en"


def test_hostile_or_empty_pages_give_an_empty_result() -> None:
    for html in ("", "   ", "<html>", "\x00\x01garbage", "<p>" * 100_000):
        page = extract_page(html, "https://x.example/")
        assert page.url == "https://x.example/"
    assert extract_page("", "https://x.example/").text == ""


def test_page_bytes_are_decoded_by_their_declared_charset() -> None:
    text = "Тбилиси открыл новую линию метро"
    body = text.encode("cp1251")
    assert decode_page(body, {"Content-Type": "text/html; charset=windows-1251"}) == text
    assert decode_page(text.encode(), {"Content-Type": "text/html; charset=nonsense"}) == text
    assert decode_page(body, {}) == text  # undeclared and not UTF-8: detected
    assert decode_page(bytes(range(128, 256)) * 3, {}) == ""  # no encoding fits: not read


async def test_teaser_summary_is_replaced_by_the_page_lead(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/georgia/101/", PAGE.encode(), content_type="text/html; charset=utf-8")
    server.set_feed("/georgia/102/", PAGE.encode(), content_type="text/html; charset=utf-8")
    first = [{"post_id": 100, "title": "Old news", "link": server.url("/georgia/100/")}]
    server.set_feed("/feed/", wordpress_feed(first))
    catalog = catalog_for([{"url": server.url("/feed/"), "regions": ["georgia"]}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        teaser = {
            "post_id": 101,
            "title": "Tbilisi opens a new metro line",
            "link": server.url("/georgia/101/"),
            "description": "The Georgian capital opened its first new [&#8230;]",
        }
        described = {
            "post_id": 102,
            "title": "Described",
            "link": server.url("/georgia/102/"),
            "description": "<p>An editor wrote this description, and it is long enough "
            "to be used as it is.</p>",
        }
        server.set_feed("/feed/", wordpress_feed([teaser, described, *first]))
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.new_articles == 2
    summaries = {a.key.rsplit(":", 1)[1]: a.summary for a in await articles(sessions)}
    assert summaries["101"].startswith(LEAD)
    for aside in ASIDES:
        assert aside not in summaries["101"]
    assert summaries["102"].startswith("An editor wrote this description")
    assert server.hits["/georgia/101/"] == 1
    assert server.hits["/georgia/102/"] == 0  # a real description: no page fetched
    assert server.hits["/georgia/100/"] == 0  # first poll: recorded, not pushed, not fetched


async def test_unreadable_page_never_leaves_a_cut_sentence(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/feed/", wordpress_feed([]))
    server.set_feed("/a/", b"nope", status=500)
    catalog = catalog_for([{"url": server.url("/feed/"), "regions": ["georgia"]}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)
        item = {
            "post_id": 7,
            "title": "Short",
            "link": server.url("/a/"),
            "description": "The parliament in Tbilisi voted on the new budget late on [&#8230;]",
        }
        server.set_feed("/feed/", wordpress_feed([item]))
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.outcome == "new" and report.deliveries == 1
    (article,) = await articles(sessions)
    # The teaser's only sentence was cut: the post goes out with its title and link.
    assert article.summary == ""
    assert server.hits["/a/"] == 1


PAGES = {
    "ka": (
        "თბილისში ახალი მეტრო გაიხსნა",
        "საქართველოს დედაქალაქში ორშაბათს ათი წლის შემდეგ პირველი ახალი მეტროს სადგური გაიხსნა.",
        "მერმა ლენტი სადგურზე ორშაბათს დილით გადაჭრა.",
    ),
    "hy": (
        "Երևանում նոր թանգարան է բացվել",
        "Երևանում երկուշաբթի օրը ժամը 10:30-ին բացվեց ժամանակակից արվեստի նոր թանգարան։",
        "Արարողությանը ներկա էին քաղաքապետը և մշակույթի նախարարը։",
    ),
    "ru": (
        "В Тбилиси открыли метро",
        "В столице Грузии открылась первая за десять лет станция метро, т.е. событие долгожданное.",
        "Мэр г. Тбилиси К. Каладзе перерезал ленточку.",
    ),
    "az": (
        "Bakıda yeni metro stansiyası açıldı",
        "İyulun 1-də Bakıda İçərişəhər yaxınlığında yeni metro stansiyası istifadəyə verildi.",
        "Açılış mərasimində şəhər rəhbərliyi iştirak edib.",
    ),
}


@pytest.mark.parametrize("lang", sorted(PAGES))
def test_page_lead_becomes_whole_sentences_in_each_script(lang: str) -> None:
    title, lead, second = PAGES[lang]
    html = article_page(title, lead, [f"{second} {second}", "Filler. " * 3], lang=lang)
    page = extract_page(html, "https://caucasus-wire.example/a/")
    summary = summarize("", page.text, lang, 300, page.title)
    assert summary.startswith(f"{lead} {second}")
    assert page.language == lang
    for aside in ASIDES:
        assert aside not in summary
