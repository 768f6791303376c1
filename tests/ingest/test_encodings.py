"""Mislabelled text: feeds and pages whose bytes are not in the charset they declare.

Served by a real local HTTP server exactly as broken sites send them (windows-1251 or
KOI8-R bytes labelled UTF-8, UTF-8 bytes labelled windows-1251, one bad byte in a
UTF-8 feed, bytes in no encoding at all): what is stored, and so posted, is the
text the newsroom wrote, never mojibake or U+FFFD; what cannot be read is skipped
with one log line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.charset import decode
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import article_page, articles, catalog_for, rig

TITLE = "Тбилиси открывает новую линию метро"
LEAD = "Жители города ждали этого десять лет, говорят в мэрии."
TR = "Bakü'de yeni metro hattı açılıyor. Şehir sakinleri on yıl bekledi."
SECOND = "В Ереване прошёл кинофестиваль"
MOJIBAKE = ("Ð", "Ñ", "Ã", "Ò", "Ï", "Р°", "РЅ", "\ufffd")


def rss(items: list[tuple[str, str, str]], declared: str) -> str:
    """An RSS document as text; the test encodes it however the broken site does."""
    body = "".join(
        f"<item><title>{title}</title><link>https://caucasus-wire.example/{slug}/</link>"
        f"<guid>{slug}</guid><description>{text}</description></item>"
        for slug, title, text in items
    )
    return (
        f'<?xml version="1.0" encoding="{declared}"?>\n<rss version="2.0"><channel>'
        f"<title>Лента</title><link>https://caucasus-wire.example/</link>{body}"
        "</channel></rss>"
    )


ITEMS = [("metro", TITLE, LEAD), ("film", SECOND, "Фестиваль длился неделю и собрал гостей.")]


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("cp1251", "utf-8"),  # the reported case
        ("koi8-r", "utf-8"),
        ("utf-8", "windows-1251"),
        ("koi8-r", "windows-1251"),
        ("cp1251", "koi8-r"),
        ("cp1251", None),
    ],
)
def test_mislabelled_russian_is_read_as_written(encoding: str, label: str | None) -> None:
    text = f"{TITLE}. {LEAD}"

    decoded = decode(text.encode(encoding), label)

    assert decoded is not None and decoded.text == text and not decoded.lossy


def test_a_right_label_is_kept_and_latin_scripts_are_not_second_guessed() -> None:
    decoded = decode(TR.encode("cp1254"), "windows-1254")
    assert decoded is not None and decoded.text == TR
    assert decode(TR.encode(), "utf-8") == decode(TR.encode(), None)
    big5 = "台北捷運新線通車".encode("big5")
    decoded = decode(big5, "big5")
    assert decoded is not None and decoded.text == "台北捷運新線通車"


def test_bytes_in_no_encoding_are_refused_and_a_few_bad_bytes_are_marked() -> None:
    assert decode(bytes(range(128, 256)) * 4, "utf-8") is None
    good = (f"{TITLE}. {LEAD} " * 5).encode()
    decoded = decode(good[:40] + b"\xff" + good[40:], "utf-8")
    assert decoded is not None and decoded.lossy and decoded.text.count("\ufffd") == 1


@pytest.mark.parametrize(
    ("encoding", "header", "declaration"),
    [
        ("cp1251", "application/rss+xml; charset=utf-8", "utf-8"),
        ("koi8-r", "application/rss+xml; charset=UTF-8", "utf-8"),
        ("utf-8", "application/rss+xml; charset=windows-1251", "windows-1251"),
        ("cp1251", "application/rss+xml", "koi8-r"),
        ("koi8-r", "text/xml", "utf-8"),
        # RFC 7303: text/xml without a charset means the XML declaration, not US-ASCII.
        ("utf-8", "text/xml", "utf-8"),
        ("cp1251", "text/xml", "windows-1251"),
    ],
)
async def test_a_mislabelled_feed_is_stored_as_written(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    encoding: str,
    header: str,
    declaration: str,
) -> None:
    server.set_feed("/feed/", rss(ITEMS, declaration).encode(encoding), content_type=header)
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru"}])
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)

    assert report.outcome == "new" and report.error is None
    stored = {a.title: a.summary for a in await articles(sessions)}
    assert set(stored) == {TITLE, SECOND}
    assert stored[TITLE].startswith(LEAD[:20])
    for text in [*stored, *stored.values()]:
        assert not any(mark in text for mark in MOJIBAKE), text


async def test_an_item_with_undecodable_bytes_is_skipped_with_one_line(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = "Битая ###строка"
    body = rss([*ITEMS, ("broken", broken, "Текст.")], "utf-8").encode()
    body = body.replace(b"###", b"\xff\xfe")
    server.set_feed("/feed/", body, content_type="application/rss+xml; charset=utf-8")
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru"}])
    caplog.set_level(logging.WARNING)
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)

    assert report.outcome == "new"
    assert sorted(a.title for a in await articles(sessions)) == sorted([TITLE, SECOND])
    lines = [r.getMessage() for r in caplog.records if "undecodable" in r.getMessage()]
    assert len(lines) == 1 and "1 item skipped" in lines[0]


async def test_a_feed_in_no_encoding_fails_its_poll_and_stores_nothing(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    body = b'<?xml version="1.0" encoding="utf-8"?><rss><channel><item><title>'
    body += bytes(range(128, 256)) * 4 + b"</title></item></channel></rss>"
    server.set_feed("/feed/", body, content_type="application/rss+xml; charset=utf-8")
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru"}])
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)

    assert report.outcome == "failed" and "no known encoding" in (report.error or "")
    assert await articles(sessions) == []


@pytest.mark.parametrize("page_encoding", ["cp1251", "koi8-r"])
async def test_a_mislabelled_article_page_gives_its_lead_as_written(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer, page_encoding: str
) -> None:
    page = article_page(TITLE, LEAD, [LEAD, "Строительство заняло четыре года."], lang="ru")
    server.set_feed("/metro/", page.encode(page_encoding), content_type="text/html; charset=utf-8")
    teaser = rss([("x", TITLE, "")], "utf-8").replace(
        "https://caucasus-wire.example/x/", server.url("/metro/")
    )
    server.set_feed("/feed/", teaser.encode(), content_type="application/rss+xml; charset=utf-8")
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru", "backlog": 5}])
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)

    assert server.hits["/metro/"] == 1
    (stored,) = await articles(sessions)
    assert stored.summary.startswith(LEAD)


async def test_an_unreadable_article_page_leaves_the_feed_text(
    sessions: async_sessionmaker[AsyncSession],
    server: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.set_feed("/metro/", bytes(range(128, 256)) * 8, content_type="text/html; charset=utf-8")
    teaser = rss([("x", TITLE, "")], "utf-8").replace(
        "https://caucasus-wire.example/x/", server.url("/metro/")
    )
    server.set_feed("/feed/", teaser.encode(), content_type="application/rss+xml; charset=utf-8")
    catalog = catalog_for([{"url": server.url("/feed/"), "language": "ru", "backlog": 5}])
    caplog.set_level(logging.WARNING, logger="scheduler.extract")
    async with rig(sessions, catalog) as r:
        await r.ingestor.poll(catalog.feeds[0], force=True)

    assert server.hits["/metro/"] == 1
    (stored,) = await articles(sessions)
    assert stored.title == TITLE and "\ufffd" not in stored.summary
    assert any("not read" in r.getMessage() for r in caplog.records)
