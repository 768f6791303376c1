"""Sites without a feed: a section page whose article links are followed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.pages import find_links
from tests.fakes.feedserver import FeedServer
from tests.ingest.support import article_page, articles, catalog_for, outbox, rig

HTML = "text/html; charset=utf-8"
BASE = "https://caucasus-wire.example/news/"


def section(links: list[tuple[str, str]], *, item_list: list[str] | None = None) -> bytes:
    """A section page: teaser cards, a "Most read" sidebar with other links, a footer."""
    cards = "\n".join(
        f'<article class="card"><h2><a href="{href}">{title}</a></h2><p>Teaser.</p></article>'
        for href, title in links
    )
    ld = ""
    if item_list is not None:
        data = {
            "@context": "https://schema.org",
            "@type": "ItemList",
            "itemListElement": [
                {"@type": "ListItem", "position": n + 1, "url": url}
                for n, url in enumerate(item_list)
            ],
        }
        ld = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return f"""<!DOCTYPE html><html lang="en"><head><title>News</title>{ld}</head><body>
<nav><a href="/">Home</a><a href="/about/">About</a></nav>
<main>{cards}</main>
<aside><h2>Most read</h2><a href="/popular/1/">Popular one</a></aside>
<footer><a href="/support/">Support us</a></footer></body></html>""".encode()


def page(title: str, region: str, lead: str) -> bytes:
    body = [
        f"{lead} Officials said more details would follow in the coming days.",
        "The decision follows months of negotiations between the parties involved.",
    ]
    return article_page(title, lead, body, region=region).encode()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


def test_links_by_selector_resolved_and_deduplicated() -> None:
    body = section([("/news/1/", "One"), ("https://caucasus-wire.example/news/2/", "Two")])
    body += b'<article class="card"><h2><a href="/news/1/?utm_source=x">One again</a></h2>'
    links, error = find_links(body.decode(), BASE, "article.card h2 a")
    assert error is None
    assert links == [
        "https://caucasus-wire.example/news/1/",
        "https://caucasus-wire.example/news/2/",
    ]


def test_selector_may_match_a_container_and_json_ld_lists_count_too() -> None:
    body = section([("/news/1/", "One")], item_list=["https://caucasus-wire.example/news/9/"])
    links, error = find_links(body.decode(), BASE, "article.card")
    assert error is None
    assert links == [
        "https://caucasus-wire.example/news/1/",
        "https://caucasus-wire.example/news/9/",
    ]


def test_bad_selector_or_no_links_is_a_clear_error() -> None:
    body = section([("/news/1/", "One")]).decode()
    assert "invalid" in (find_links(body, BASE, "article[[")[1] or "")
    assert "no article links" in (find_links(body, BASE, "div.nothing a")[1] or "")
    assert find_links("", BASE, "a")[1] == "empty section page"


async def test_new_articles_on_a_section_page_flow_like_feed_items(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/news/1/", page("Old story", "Georgia", "An old lead."), content_type=HTML)
    server.set_feed("/news/", section([("/news/1/", "Old story")]), content_type=HTML)
    catalog = catalog_for(
        [{"url": server.url("/news/"), "type": "html", "links": "article.card h2 a"}]
    )
    feed = catalog.feeds[0]
    async with rig(sessions, catalog) as r:
        assert (await r.ingestor.poll(feed, force=True)).outcome == "new"  # recorded, not pushed

        lead = "Yerevan and Baku agreed on Tuesday to reopen the railway link between them."
        server.set_feed("/news/2/", page("Railway to reopen", "Armenia", lead), content_type=HTML)
        server.set_feed(
            "/news/",
            section([("/news/2/", "Railway to reopen"), ("/news/1/", "Old story")]),
            content_type=HTML,
        )
        report = await r.ingestor.poll(feed, force=True)
        assert report.outcome == "new" and report.new_articles == 1 and report.deliveries == 1
        assert (await r.ingestor.poll(feed, force=True)).outcome == "unchanged"
    assert server.hits["/news/1/"] == 1  # a known article page is never fetched again
    assert server.hits["/news/2/"] == 1
    assert server.hits["/popular/1/"] == 0
    new = (await articles(sessions))[-1]
    assert new.title == "Railway to reopen"
    assert new.regions == "armenia"
    assert new.summary.startswith(lead)
    assert "Most read" not in new.summary and "Support" not in new.summary
    assert new.published_at is not None and new.published_at.isoformat() == "2026-11-26T05:30:00"
    assert len(await outbox(sessions)) == 1


async def test_section_page_without_links_fails_the_poll(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/news/", b"<html><body><p>Redesigned!</p></body></html>", content_type=HTML)
    catalog = catalog_for(
        [{"url": server.url("/news/"), "type": "html", "links": "article.card h2 a"}]
    )
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.outcome == "failed" and "no article links" in (report.error or "")


async def test_unreadable_article_pages_are_skipped(
    sessions: async_sessionmaker[AsyncSession], server: FeedServer
) -> None:
    server.set_feed("/news/1/", b"gone", status=404)
    server.set_feed("/news/2/", b"<html><body></body></html>", content_type=HTML)
    server.set_feed("/news/3/", page("Fine", "Georgia", "Tbilisi is fine."), content_type=HTML)
    links = [("/news/1/", "A"), ("/news/2/", "B"), ("/news/3/", "C")]
    server.set_feed("/news/", section(links), content_type=HTML)
    catalog = catalog_for([{"url": server.url("/news/"), "type": "html", "links": "h2 a"}])
    async with rig(sessions, catalog) as r:
        report = await r.ingestor.poll(catalog.feeds[0], force=True)
    assert report.outcome == "new" and report.new_articles == 1
    assert [a.title for a in await articles(sessions)] == ["Fine"]
