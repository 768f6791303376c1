"""End to end: a hostile feed cannot make the running bot read an internal service.

``internal`` is another origin on loopback (not named in the catalog) holding a
secret: a stand-in for an intranet service. The outlet's feed and section page point
at it in every way a feed can: a direct link, a redirect from the outlet's own
(trusted) site, a section-page link, and a host name that resolves to loopback
(``localhost``, listed in ``article_hosts`` so only the address check stands in the
way), and a WordPress REST API the feed's answer says is there. It must receive no
request, and no post may carry its text; the articles are posted from the feed's own
text. Control articles on the site itself prove pages are still read where they may
be.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.support import (
    GEORGIA_CHANNEL,
    declare_channels,
    make_catalog,
    make_settings,
    running,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, rss_feed
from tests.ingest.support import article_page

SECRET = "INTERNAL-SECRET-do-not-publish"
SITE_LEAD = "The site's own page says the tunnel opens in spring"
SECTION_LEAD = "The section's article says the bridge reopens in autumn"


def _item(title: str, link: str, hours_ago: float) -> dict[str, object]:
    """A teaser item (no description): the bot would read the article page for a lead.
    Its WordPress post id makes the bot ask the REST API for its translations."""
    return {
        "title": title,
        "link": link,
        "guid": link,
        "post_id": 100 + int(hours_ago),
        "categories": ["Georgia"],
        "pubDate": datetime.now(UTC) - timedelta(hours=hours_ago),
    }


def _serve_internal(internal: FeedServer) -> None:
    page = article_page(f"Secret {SECRET}", SECRET, [SECRET, SECRET]).encode()
    for path in (
        "/secret/direct",
        "/secret/redirect",
        "/secret/named",
        "/secret/section",
        "/wp-json/",
    ):
        internal.set_feed(path, page, content_type="text/html; charset=utf-8")


def _serve_site(site: FeedServer, internal: FeedServer) -> None:
    feed = [
        _item("Direct link story from Georgia", internal.url("/secret/direct"), 1),
        _item("Redirected story from Georgia", site.url("/moved/"), 2),
        _item("Named host story from Georgia", internal.url("/secret/named", host="localhost"), 3),
        _item("Tunnel story from Georgia", site.url("/tunnel/"), 4),
    ]
    # WordPress says where its REST API is; a hostile answer names the internal origin.
    rest = internal.url("/wp-json/")
    site.set_feed("/feed/", rss_feed(feed), headers={"Link": f'<{rest}>; rel="https://api.w.org/"'})
    site.set_redirect("/moved/", internal.url("/secret/redirect"), status=302)
    site.set_feed(
        "/tunnel/",
        article_page("Tunnel story from Georgia", SITE_LEAD, [SITE_LEAD + ".", "More."]).encode(),
        content_type="text/html; charset=utf-8",
    )
    section = (
        "<html><body><article><h2><a href='{}'>Secret</a></h2></article>"
        "<article><h2><a href='{}'>Bridge</a></h2></article></body></html>"
    ).format(internal.url("/secret/section"), site.url("/bridge/"))
    site.set_feed("/section/", section.encode(), content_type="text/html; charset=utf-8")
    site.set_feed(
        "/bridge/",
        article_page("Bridge story from Georgia", SECTION_LEAD, [SECTION_LEAD + "."]).encode(),
        content_type="text/html; charset=utf-8",
    )


@pytest.mark.slow
async def test_a_hostile_feed_gets_no_request_to_an_internal_origin(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.net.guard")
    caplog.set_level(logging.INFO, logger="scheduler.ingest")
    async with FakeBotAPI() as api, FeedServer() as site, FeedServer() as internal:
        declare_channels(api)
        _serve_internal(internal)
        _serve_site(site, internal)
        feeds = [
            {"url": site.url("/feed/"), "language": "en", "backlog": 10},
            {
                "url": site.url("/section/"),
                "language": "en",
                "type": "html",
                "links": "article h2 a",
                "backlog": 10,
            },
        ]
        outlet = {
            "name": "Caucasus Wire",
            "site": site.url("/"),
            "languages": ["en", "ru", "ka", "hy", "az"],
            "article_hosts": ["localhost"],
        }
        catalog = make_catalog([], outlet=outlet, feeds=feeds)
        settings = make_settings(api, database_url)

        async with running(settings, catalog):
            await api.wait_for(lambda: len(api.messages_to(GEORGIA_CHANNEL)) >= 5, within=20)
            await asyncio.sleep(0.5)

        posts = api.messages_to(GEORGIA_CHANNEL)
        texts = [post.plain_text for post in posts]
        assert sum(internal.hits.values()) == 0
        assert not any(SECRET in post.text for post in posts)
        for title in ("Direct link", "Redirected", "Named host", "Tunnel", "Bridge"):
            assert sum(title in text for text in texts) == 1, (title, texts)
        assert any(SITE_LEAD in text for text in texts)  # allowed pages are still read
        assert any(SECTION_LEAD in text for text in texts)
        assert site.hits["/moved/"] == 1
        found = f"WordPress REST API at {internal.url('/wp-json/wp/v2/')}"
        assert any(found in r.getMessage() for r in caplog.records)  # and it was refused
        refused = [
            r.getMessage() for r in caplog.records if "refused to fetch from" in r.getMessage()
        ]
        assert {line.split()[4].rstrip(":") for line in refused} == {"127.0.0.1", "localhost"}
        assert len(refused) == 2
