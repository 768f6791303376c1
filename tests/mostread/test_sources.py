"""Most-read sources: parsing rules (pure) and refreshes against local sites and a real DB."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.errors import ConfigError
from bot.mostread import MostReadItem, MostReadStore
from bot.storage.articles import NewArticle, insert_article
from bot.storage.models import ClickRow
from scheduler.fetch import Fetcher, FetchLimits
from scheduler.mostread import MostReadRefresher
from scheduler.mostread_sources import parse_html_block, parse_popular_posts
from tests.e2e.support import make_catalog
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer

SITE = "https://caucasus-wire.example"
PAGE = f"""<!doctype html><html><head><title>Article</title></head><body>
<nav><a href="/about/">About</a></nav>
<article><p>Body <a href="/other/">link in text</a></p></article>
<aside class="most-read"><h3>Most read</h3><ol>
  <li><a href="{SITE}/101/">Tbilisi opens   a new
      metro line</a></li>
  <li><a href="{SITE}/102/"><img src="x.png" alt=""> Yerevan &amp; the film festival</a></li>
  <li><a href="/101/">Tbilisi opens a new metro line (again)</a></li>
  <li><a href="javascript:alert(1)">Evil</a></li>
  <li><a href="#top">Top</a></li>
  <li><a href="/103/"></a></li>
  <li><a href="/104/" title="Baku title">   </a></li>
  <li><a href="//cdn.caucasus-wire.example/105/">Protocol-relative</a></li>
</ol></aside></body></html>""".encode()


NOW = datetime(2026, 11, 20, 12, 0)


def test_html_block_links_in_page_order_resolved_and_deduplicated() -> None:
    items = parse_html_block(PAGE, f"{SITE}/200/", ".most-read", limit=10)
    assert [(i.title, i.url) for i in items] == [
        ("Tbilisi opens a new metro line", f"{SITE}/101/"),
        ("Yerevan & the film festival", f"{SITE}/102/"),
        ("Baku title", f"{SITE}/104/"),
        ("Protocol-relative", "https://cdn.caucasus-wire.example/105/"),
    ]


def test_html_selector_may_name_the_links_and_the_limit_holds() -> None:
    items = parse_html_block(PAGE, f"{SITE}/200/", "aside.most-read li > a", limit=2)
    assert [i.url for i in items] == [f"{SITE}/101/", f"{SITE}/102/"]


def test_html_base_tag_is_honoured() -> None:
    page = b'<html><head><base href="https://mirror.example/en/"></head><body>'
    page += b'<div id="top"><a href="story/">Story</a></div></body></html>'
    assert parse_html_block(page, f"{SITE}/", "#top", 5)[0].url == (
        "https://mirror.example/en/story/"
    )


@pytest.mark.parametrize("selector", ["..bad", "div[", ":nope(1)"])
def test_invalid_selector_is_a_clear_error(selector: str) -> None:
    with pytest.raises(ValueError, match="selector"):
        parse_html_block(PAGE, SITE, selector, 5)


def test_html_without_the_block_gives_nothing() -> None:
    assert parse_html_block(b"<html><body><p>x</p></body></html>", SITE, ".most-read", 5) == []
    assert parse_html_block(b"\x00\xff garbage", SITE, ".most-read", 5) == []


def test_popular_posts_json() -> None:
    body = json.dumps(
        [
            {"title": {"rendered": "A &amp; B"}, "link": f"{SITE}/1/"},
            {"title": "Plain", "url": f"{SITE}/2/"},
            {"title": "No link"},
            {"title": "Bad scheme", "link": "ftp://x/"},
            "junk",
        ]
    ).encode()
    assert parse_popular_posts(body, 5) == [
        MostReadItem("A & B", f"{SITE}/1/"),
        MostReadItem("Plain", f"{SITE}/2/"),
    ]
    with pytest.raises(ValueError):
        parse_popular_posts(b"{}", 5)


# --------------------------------------------------------------------------- refreshes


@pytest.fixture
async def site() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def refresher(
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    clock: FakeClock,
    timeout: float = 1.0,
) -> tuple[MostReadRefresher, MostReadStore]:
    store = MostReadStore(sessions, catalog.mostread.source, catalog.mostread.limit)
    fetcher = Fetcher(http, limits=FetchLimits(total_timeout=timeout, connect_timeout=timeout))
    return MostReadRefresher(catalog, sessions, fetcher, store, clock), store


def dead_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/most-read/"  # nothing listens there any more


async def add_article(
    sessions: async_sessionmaker[AsyncSession], n: int, lang: str, regions: tuple[str, ...]
) -> None:
    async with sessions.begin() as session:
        await insert_article(
            session,
            NewArticle(
                key=f"k{n}",
                url=f"{SITE}/{n}/",
                canonical_url=f"{SITE}/{n}/",
                title=f"Article {n}",
                summary="",
                language=lang,
                regions=regions,
                feed_id=None,
                published_at=None,
                announced=True,
            ),
            NOW - timedelta(days=1, minutes=n),
        )


async def test_html_source_per_language_with_regions_from_known_articles(
    sessions: async_sessionmaker[AsyncSession], site: FeedServer, http: aiohttp.ClientSession
) -> None:
    site.set_feed("/en/page/", PAGE, content_type="text/html; charset=utf-8")
    ru_page = '<div class="most-read"><a href="/ru/7/">Тбилиси: новая линия метро</a></div>'
    site.set_feed("/ru/page/", ru_page.encode(), content_type="text/html; charset=utf-8")
    await add_article(sessions, 101, "en", ("georgia",))
    catalog = make_catalog(
        [],
        mostread={
            "source": "html",
            "selector": ".most-read",
            "url": {"en": site.url("/en/page/"), "ru": site.url("/ru/page/")},
        },
    )
    job, store = refresher(catalog, sessions, http, FakeClock(NOW, paces=True))
    await job.refresh()
    en = await store.top("en")
    assert en.source == "html" and en.fetched_at == NOW
    assert en.items[0] == MostReadItem(
        "Tbilisi opens a new metro line", f"{SITE}/101/", ("georgia",)
    )
    assert [i.title for i in (await store.top("ru")).items] == ["Тбилиси: новая линия метро"]
    georgia = await store.top("en", "georgia")
    assert [i.url for i in georgia.items] == [f"{SITE}/101/"]


async def test_dead_and_slow_sources_keep_the_last_list_and_do_not_hold_others(
    sessions: async_sessionmaker[AsyncSession], site: FeedServer, http: aiohttp.ClientSession
) -> None:
    site.set_feed("/en/page/", PAGE, content_type="text/html")
    site.set_feed("/ru/page/", PAGE, content_type="text/html")
    site.set_feed("/ka/page/", PAGE, content_type="text/html")
    urls = {"en": site.url("/en/page/"), "ru": site.url("/ru/page/"), "ka": site.url("/ka/page/")}
    mostread = {"source": "html", "selector": ".most-read", "url": urls}
    clock = FakeClock(NOW, paces=True)
    job, store = refresher(make_catalog([], mostread=mostread), sessions, http, clock)
    await job.refresh()
    first = await store.top("en")

    # en goes dead (nothing listens), ru hangs, ka changes: ka is refreshed all the same.
    site.set_hang("/ru/page/")
    site.set_feed("/ka/page/", b'<p class="most-read"><a href="/9/">New</a></p>')
    broken = {**urls, "en": dead_url()}
    clock.set(NOW + timedelta(minutes=15))
    job, store = refresher(
        make_catalog([], mostread={**mostread, "url": broken}), sessions, http, clock
    )
    started = time.monotonic()
    await job.refresh()
    assert time.monotonic() - started < 2.5  # languages in parallel, each bounded by 1 s

    assert (await store.top("en")).items == first.items
    assert (await store.top("ru")).items == first.items
    assert [i.title for i in (await store.top("ka")).items] == ["New"]
    status = {s.language: s for s in await store.status(["en", "ru", "ka", "hy"])}
    assert status["en"].fetched_at == NOW and status["en"].error
    assert status["ru"].fetched_at == NOW and status["ru"].error
    assert status["ka"].fetched_at == NOW + timedelta(minutes=15) and status["ka"].error is None
    assert status["hy"].fetched_at is None and status["hy"].error is None


async def test_failure_before_any_list_is_visible_to_operators(
    sessions: async_sessionmaker[AsyncSession], site: FeedServer, http: aiohttp.ClientSession
) -> None:
    site.set_feed("/broken/", b"oops", status=500, content_type="text/html")
    mostread = {"source": "wordpress-popular-posts", "url": {"en": site.url("/broken/")}}
    job, store = refresher(
        make_catalog([], mostread=mostread), sessions, http, FakeClock(NOW, paces=True)
    )
    await job.refresh()
    (status,) = await store.status(["en"])
    assert status.fetched_at is None and status.error == "HTTP 500"
    assert (await store.top("en")).source == "latest"  # readers still get something


async def test_a_reply_does_not_wait_for_a_refresh_in_progress(
    sessions: async_sessionmaker[AsyncSession], site: FeedServer, http: aiohttp.ClientSession
) -> None:
    site.set_hang("/en/page/")
    await add_article(sessions, 5, "en", ())
    mostread = {"source": "html", "selector": "a", "url": {"en": site.url("/en/page/")}}
    job, store = refresher(
        make_catalog([], mostread=mostread), sessions, http, FakeClock(NOW, paces=True), timeout=5
    )
    refreshing = asyncio.create_task(job.refresh())
    await asyncio.sleep(0.2)
    started = time.monotonic()
    top = await store.top("en")
    assert time.monotonic() - started < 0.5
    assert not refreshing.done()
    assert [i.title for i in top.items] == ["Article 5"]
    refreshing.cancel()


async def add_click(
    sessions: async_sessionmaker[AsyncSession],
    n: int,
    reader: str,
    at: datetime,
    lang: str = "en",
    kind: str = "article",
) -> None:
    async with sessions.begin() as session:
        session.add(
            ClickRow(
                kind=kind,
                target=f"t{n}",
                url=f"{SITE}/{n}/",
                language=lang,
                regions="",
                reader=reader,
                day=at.date(),
                created_at=at,
            )
        )


async def test_clicks_rank_articles_by_distinct_readers_over_seven_days(
    sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession
) -> None:
    for n, regions in ((1, ("georgia",)), (2, ("armenia",)), (3, ()), (4, ())):
        await add_article(sessions, n, "en", regions)
    day = timedelta(days=1)
    # Article 1: one reader on five days (counts once). Article 2: three readers.
    for d in range(5):
        await add_click(sessions, 1, "r1", NOW - d * day)
    for reader in ("r1", "r2", "r3"):
        await add_click(sessions, 2, reader, NOW - day)
    await add_click(sessions, 3, "r1", NOW - 2 * day)
    await add_click(sessions, 3, "r2", NOW - 2 * day)
    # Too old, another language, a donate tap, an unknown URL: none of them count.
    for reader in ("a", "b", "c", "d"):
        await add_click(sessions, 4, reader, NOW - 8 * day)
        await add_click(sessions, 1, reader, NOW, lang="ru")
        await add_click(sessions, 1, reader, NOW, kind="donate")
        await add_click(sessions, 99, reader, NOW)
    catalog = make_catalog([], mostread={"source": "clicks", "limit": 3})
    job, store = refresher(catalog, sessions, http, FakeClock(NOW, paces=True))
    await job.refresh()
    top = await store.top("en")
    assert top.source == "clicks"
    assert [i.title for i in top.items] == ["Article 2", "Article 3", "Article 1"]
    assert [i.title for i in (await store.top("en", "georgia")).items] == ["Article 1"]
    ru = await store.top("ru")  # the Russian edition's taps rank for Russian readers only
    assert (ru.source, [i.title for i in ru.items]) == ("clicks", ["Article 1"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('<a class="m" href="/1/">Тбилиси</a>'.encode(), "text/html"),
        ('<a class="m" href="/1/">Тбилиси</a>'.encode("cp1251"), "text/html; charset=windows-1251"),
        (
            '<meta charset="windows-1251"><a class="m" href="/1/">Тбилиси</a>'.encode("cp1251"),
            "text/html",
        ),
        ('<a class="m" href="/1/">Тбилиси</a>'.encode(), "text/html; charset=bogus-9"),
    ],
)
def test_html_encodings(body: bytes, content_type: str) -> None:
    items = parse_html_block(body, SITE, "a.m", 5, content_type=content_type)
    assert [i.title for i in items] == ["Тбилиси"]


async def test_clicks_match_articles_stored_with_non_ascii_urls(
    sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession
) -> None:
    from urllib.parse import quote

    iri = f"{SITE}/ka/თბილისი/"
    async with sessions.begin() as session:
        await insert_article(
            session,
            NewArticle(
                key="ka1",
                url=iri,
                canonical_url=iri,
                title="თბილისი",
                summary="",
                language="ka",
                regions=("georgia",),
                feed_id=None,
                published_at=None,
                announced=True,
            ),
            NOW - timedelta(hours=3),
        )
        session.add(
            ClickRow(
                kind="article",
                target="t",
                url=f"{SITE}/ka/{quote('თბილისი')}/",  # as the tracked link carries it
                language="ka",
                regions="georgia",
                reader="r1",
                day=NOW.date(),
                created_at=NOW - timedelta(hours=1),
            )
        )
    catalog = make_catalog([], mostread={"source": "clicks"})
    job, store = refresher(catalog, sessions, http, FakeClock(NOW, paces=True))
    await job.refresh()
    top = await store.top("ka")
    assert (top.source, [(i.title, i.url) for i in top.items]) == ("clicks", [("თბილისი", iri)])


def test_catalog_check_names_an_invalid_selector() -> None:
    with pytest.raises(ConfigError) as caught:
        make_catalog([], mostread={"source": "html", "url": SITE, "selector": "div["})
    assert any(p.startswith("mostread.selector: ") for p in caught.value.problems)
