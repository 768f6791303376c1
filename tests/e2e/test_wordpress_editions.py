"""End to end: five editions of a WordPress site with an SEO plugin, to the fake Bot API.

Each edition's feed carries three items shaped like the outlet's: WordPress's cut
excerpt with the full content, an editor's excerpt with the full content, and a cut
excerpt without content (its page is fetched). Every excerpt and every content ends with
the plugin's footer in the edition's language, and every article with a sentence whose
link says "here". No channel post may show ``[…]``, the footer, that sentence or a
sentence cut short.
"""

from __future__ import annotations

import dataclasses
from html import unescape

from bot.app import assemble
from bot.catalog import Catalog
from scheduler.fetch import FetchLimits
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer
from tests.fakes.jamnews import (
    ARTICLES,
    SITE,
    Article,
    article_page,
    jamnews_channel,
    jamnews_item,
)

CHANNELS = {lang: -1002000000000 - index for index, lang in enumerate(sorted(ARTICLES))}
SHAPES = {"auto": {}, "editor": {"excerpt": "editor"}, "page": {"content": False}}


def _editions() -> dict[str, list[tuple[str, Article]]]:
    """Per language, (shape, article) for the three items of its feed."""
    editions: dict[str, list[tuple[str, Article]]] = {}
    for lang, article in ARTICLES.items():
        editions[lang] = [
            (
                shape,
                dataclasses.replace(
                    article,
                    post_id=article.post_id * 10 + number,
                    slug=f"{article.slug}-{number}",
                    title=f"{article.title} {number}",
                ),
            )
            for number, shape in enumerate(SHAPES, start=1)
        ]
    return editions


def _catalog(site: FeedServer) -> Catalog:
    return make_catalog(
        [],
        feeds=[
            {"url": site.url(f"/{lang}/feed/"), "language": lang, "regions": ["georgia"]}
            for lang in ARTICLES
        ],
        channels=[
            {"chat": f"@jam_{lang}", "regions": ["georgia"], "language": lang} for lang in ARTICLES
        ],
    )


def _link_sentence_text(article: Article) -> str:
    return unescape(article.link_sentence.replace("</a>", "").split("<a ")[0])


def _assert_post(text: str, shape: str, article: Article) -> None:
    assert article.title in text
    for mark in ("[…]", "[...]", "…", article.footer_text()):
        assert mark not in text, (shape, mark, text)
    assert _link_sentence_text(article) not in text, (shape, text)
    expected = article.editor_excerpt if shape == "editor" else " ".join(article.sentences)
    assert expected in text, (shape, text)
    for sentence in article.sentences if shape != "editor" else ():
        # a sentence of the article is in the post whole or not at all
        assert (sentence[:25] in text) == (sentence in text), (shape, sentence, text)


async def test_no_post_in_any_edition_shows_teaser_footer_or_cut_sentence(
    database_url: str,
) -> None:
    editions = _editions()
    async with FakeBotAPI() as api, FeedServer() as site:
        for lang, chat in CHANNELS.items():
            api.set_chat(chat, "channel", title=f"JAMnews {lang}", username=f"jam_{lang}")
            site.set_feed(f"/{lang}/feed/", jamnews_channel(lang, []))
        base = site.url("")
        for items in editions.values():
            for _, article in items:
                path = article.url.removeprefix(SITE)
                page = article_page(article).replace(SITE, base).encode()
                site.set_feed(path, page, content_type="text/html; charset=utf-8")
        catalog = _catalog(site)
        # Room for the whole article: the footer and the link sentence would show.
        settings = make_settings(api, database_url, summary_length=3000)
        async with assemble(
            settings, catalog, dry_run=False, fetch_limits=FetchLimits(total_timeout=5.0)
        ) as parts:
            assert parts.application is not None
            await parts.application.initialize()
            try:
                await parts.ingestor.poll_all()  # first poll: the empty feeds are the baseline
                for lang, items in editions.items():
                    xml = [jamnews_item(article, **SHAPES[shape]) for shape, article in items]
                    site.set_feed(f"/{lang}/feed/", jamnews_channel(lang, xml, base=base))
                await parts.ingestor.poll_all()
                await parts.sender.drain(within=30)
            finally:
                await parts.application.shutdown()
        for lang, items in editions.items():
            posts = [m.plain_text for m in api.messages_to(CHANNELS[lang], method=None)]
            assert len(posts) == len(items), (lang, posts)
            for shape, article in items:
                (text,) = [post for post in posts if article.title in post]
                _assert_post(text, shape, article)
        for items in editions.values():  # only the item without content needed its page
            for shape, article in items:
                assert site.hits[article.url.removeprefix(SITE)] == (shape == "page")
