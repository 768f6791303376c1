"""Building blocks for ingestion tests: a manual clock, a catalog, an ingestor on a real DB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import LogAlerts
from bot.catalog import Catalog, parse_catalog
from bot.storage.chats import sync_catalog_channels
from bot.storage.models import ArticleRow, FeedRow, OutboxRow
from scheduler.fetch import Fetcher, FetchLimits
from scheduler.ingest import Ingestor
from tests.fakes.clock import FakeClock
from tests.fakes.feedserver import FeedServer, wordpress_feed

SITE = "https://caucasus-wire.example"
FAST = FetchLimits(connect_timeout=1.0, total_timeout=2.0, max_bytes=1024 * 1024)


def catalog_for(feeds: list[dict[str, Any]]) -> Catalog:
    """Two regions, one English channel for each, and the given ``[[feeds]]``."""
    return parse_catalog(
        {
            "outlet": {"name": "Caucasus Wire", "site": SITE, "languages": ["en", "ru"]},
            "regions": [
                {"code": "georgia", "name": "Georgia", "keywords": ["georgia", "tbilisi*"]},
                {"code": "armenia", "name": "Armenia", "keywords": ["armenia", "yerevan*"]},
            ],
            "feeds": [{"language": "en", **feed} for feed in feeds],
            "channels": [
                {"chat": "@cw_georgia", "regions": ["georgia"], "language": "en"},
                {"chat": "@cw_armenia", "regions": ["armenia"], "language": "en"},
            ],
        }
    )


@dataclass
class Rig:
    ingestor: Ingestor
    alerts: LogAlerts
    clock: FakeClock
    catalog: Catalog


@contextlib.asynccontextmanager
async def rig(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    *,
    clock: FakeClock | None = None,
    limits: FetchLimits = FAST,
    **options: Any,
) -> AsyncIterator[Rig]:
    """An ingestor on a migrated database with the catalog's channels in place."""
    clock = clock or FakeClock()
    alerts = LogAlerts()
    async with sessions.begin() as session:
        await sync_catalog_channels(session, catalog, clock.now())
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(http, limits=limits)
        ingestor = Ingestor(catalog, sessions, fetcher, clock, alerts=alerts, **options)
        try:
            yield Rig(ingestor, alerts, clock, catalog)
        finally:  # a fan-out still running in the background ends before the database goes
            await ingestor.wait_idle()


async def feed_row(sessions: async_sessionmaker[AsyncSession], url: str) -> FeedRow:
    async with sessions() as session:
        row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
        assert row is not None
        return row


async def articles(sessions: async_sessionmaker[AsyncSession]) -> list[ArticleRow]:
    async with sessions() as session:
        return list(await session.scalars(select(ArticleRow).order_by(ArticleRow.id)))


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def article_page(
    title: str,
    lead: str,
    body: list[str],
    *,
    region: str = "Georgia",
    published: str = "2026-11-26T09:30:00+04:00",
    description: str | None = None,
    lang: str = "en",
    charset: str = "utf-8",
) -> str:
    """An article page shaped like a news outlet's: navigation, region label, title,
    date, lead, body with a photo credit and a "Read also" line, then a "Most read"
    aside, a "Support us" block and a footer."""
    meta = (
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<meta property="article:section" content="{region}">'
    )
    if description is not None:
        meta += f'<meta property="og:description" content="{description}">'
    paragraphs = "\n".join(f"<p>{p}</p>" for p in body)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{charset}"><title>{title} | Caucasus Wire</title>
{meta}
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{title}", "datePublished": "{published}", "articleSection": "{region}"}}</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/georgia/">Georgia</a> <a href="/armenia/">Armenia</a>
<a href="/azerbaijan/">Azerbaijan</a></nav></header>
<main>
<article>
<a class="region" href="/{region.lower()}/">{region}</a>
<h1>{title}</h1>
<time datetime="{published}">26 November 2026</time>
<p class="lead"><strong>{lead}</strong></p>
<figure><img src="/photo.jpg" alt=""><figcaption>Photo: Caucasus Wire</figcaption></figure>
{paragraphs}
<p>Read also: Parliament passes the budget after a long debate</p>
</article>
<aside class="most-read"><h2>Most read</h2><ol>
<li><a href="/1/">Armenia and Azerbaijan sign a border deal after long talks in Brussels</a></li>
<li><a href="/2/">Baku hosts a large climate conference with thousands of delegates</a></li>
<li><a href="/3/">Prices rise in Yerevan as the dram weakens against the dollar</a></li>
</ol></aside>
<section class="support-us"><h2>Support us</h2>
<p>Independent journalism in the Caucasus depends on readers like you. Please support
Caucasus Wire with a monthly donation today, it takes a minute.</p>
<a href="/support/">Donate</a></section>
</main>
<footer><p>© 2026 Caucasus Wire. All rights reserved. Privacy policy. Contacts.</p></footer>
</body></html>
"""


REST = "/wp-json/wp/v2/"


@dataclass
class Post:
    id: int
    published: datetime  # naive UTC
    region: str
    extra: dict[str, Any] = field(default_factory=dict)  # more REST fields (WPML, Polylang)
    link: str = ""  # the permalink; ``{SITE}/{id}/`` when empty

    @property
    def title(self) -> str:
        city = "Tbilisi" if self.region == "Georgia" else "Yerevan"
        return f"{city} story number {self.id}"

    def feed_item(self) -> dict[str, Any]:
        return {
            "post_id": self.id,
            "title": self.title,
            "description": f"<p>{self.title} happened today. Officials confirmed the details.</p>",
            "categories": [self.region],
            "pubDate": self.published.replace(tzinfo=UTC),
        }

    def rest(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date_gmt": self.published.isoformat(timespec="seconds"),
            "modified_gmt": self.published.isoformat(timespec="seconds"),
            "guid": {"rendered": f"{SITE}/?p={self.id}"},
            "link": self.link or f"{SITE}/{self.id}/",
            "title": {"rendered": self.title.replace("story", "story&#8217;s")},
            "excerpt": {"rendered": f"<p>{self.title} happened today. More details follow.</p>"},
            "content": {"rendered": f"<p>{self.title} happened today.</p><p>Body.</p>"},
            "_embedded": {"wp:term": [[{"name": self.region, "taxonomy": "category"}], []]},
            **self.extra,
        }


class FakeWordPress:
    """A feed of the 10 newest posts and ``/wp-json/wp/v2/posts`` over all of them.

    ``announce_api``: the feed's answers carry WordPress's ``Link: <…/wp-json/>;
    rel="https://api.w.org/"`` header, as a real WordPress site's do.
    """

    def __init__(self, server: FeedServer, *, announce_api: bool = False) -> None:
        self.server = server
        self.announce_api = announce_api
        self.posts: list[Post] = []
        self.hidden: list[Post] = []  # other languages' posts: in the REST API, not the feed
        self.rest_queries: list[dict[str, str]] = []  # listings by date (gap fill)
        self.include_queries: list[dict[str, str]] = []  # posts by id (translations)
        server.set_handler(REST + "posts", self._posts)

    def publish(self, posts: Sequence[Post]) -> None:
        self.posts.extend(posts)
        for post in posts:
            self.server.set_handler(f"{REST}posts/{post.id}", self._one(post))
        newest = sorted(self.posts, key=lambda p: p.published, reverse=True)[:10]
        link = f'<{self.server.url("/wp-json/")}>; rel="https://api.w.org/"'
        self.server.set_feed(
            "/feed/",
            wordpress_feed([p.feed_item() for p in newest], site=SITE),
            headers={"Link": link} if self.announce_api else None,
        )

    def _one(self, post: Post) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.json_response(post.rest())

        return handler

    async def _posts(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        if "include" in query:  # WordPress's posts by id (any language, here)
            self.include_queries.append(query)
            wanted = {int(i) for i in query["include"].split(",")}
            found = [p.rest() for p in [*self.posts, *self.hidden] if p.id in wanted]
            return web.json_response(found)
        self.rest_queries.append(query)
        after = datetime.fromisoformat(query["after"])
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        chosen = sorted(
            (p for p in self.posts if p.published > after),
            key=lambda p: p.published,
            reverse=True,
        )
        pages = max(1, -(-len(chosen) // per_page))
        if page > pages:
            return web.json_response({"code": "rest_post_invalid_page_number"}, status=400)
        body = [p.rest() for p in chosen[(page - 1) * per_page : page * per_page]]
        headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)}
        return web.json_response(body, headers=headers)
