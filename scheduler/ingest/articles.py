"""Fresh entries become articles, known ones corrections: pure rules, data in, data out.

The title and summary of an entry are computed by one function (:func:`edition_text`)
for both: a new article stores them, a known one compares them with what it stored.
Which articles a transaction inserts (:func:`to_insert`) is decided here too, from the
keys and URLs the database already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.catalog import fold_term
from bot.clock import to_naive_utc
from bot.domain import FeedEntry
from bot.storage.articles import NewArticle
from bot.text.html import html_to_text
from bot.text.summarize import summarize
from scheduler.classify import RegionMatcher
from scheduler.corrections import Correction, Stored, dump_alternates
from scheduler.identity import canonical_url
from scheduler.ingest.entries import Keyed, needs_page

#: (WordPress post id, canonical URL) of a CMS push that said "breaking".
BreakingPush = tuple[int | None, str | None]


@dataclass(frozen=True, slots=True)
class Edition:
    """What the rules need to know about one feed's language edition."""

    language: str
    regions: tuple[str, ...]
    summary_length: int
    sites: tuple[str, ...]  # what the site calls itself (its SEO footer is not a summary)
    breaking_terms: frozenset[str] = frozenset()
    breaking_pushes: tuple[BreakingPush, ...] = ()


def headline(entry: FeedEntry) -> str:
    """The entry's title as plain text (its URL when it has none), as stored."""
    return (html_to_text(entry.title) or entry.url)[:1000]


def edition_text(entry: FeedEntry, edition: Edition, body: str | None) -> tuple[str, str]:
    """(title, summary) of an entry; ``body`` is the article page's text when it was read."""
    title = html_to_text(entry.title) or entry.url
    summary = summarize(
        entry.summary_html,
        body,
        edition.language,
        limit=edition.summary_length,
        title=title,
        body_html=entry.content_html,
        sites=edition.sites,
        url=entry.url,
    )
    return title[:1000], summary


def is_breaking(entry: FeedEntry, edition: Edition) -> bool:
    """A catalog ``breaking`` category or tag, or a CMS push that said so."""
    terms = edition.breaking_terms
    if terms and any(fold_term(c) in terms for c in entry.categories):
        return True
    url = canonical_url(entry.url) if entry.url else None
    return any(
        (post_id is not None and post_id == entry.wp_post_id) or (pushed and pushed == url)
        for post_id, pushed in edition.breaking_pushes
    )


def prepare(
    edition: Edition,
    matcher: RegionMatcher,
    topics: RegionMatcher,
    fresh: Sequence[Keyed],
    feed_id: int,
    announce: set[int],
    pages: Mapping[str, tuple[str, str]],
) -> list[NewArticle]:
    """Summaries, regions, topics, lead image and breaking flag of fresh entries (newest
    first);
    ``pages``: key -> (text, image) of the article pages read for them."""
    articles = []
    for index, (key, entry) in enumerate(fresh):
        body, image = pages.get(key, ("", ""))
        title, summary = edition_text(entry, edition, body or None)
        articles.append(
            NewArticle(
                key=key,
                url=entry.url,
                canonical_url=canonical_url(entry.url),
                title=title,
                summary=summary,
                language=edition.language,
                regions=matcher.classify(entry, edition.regions, edition.language),
                feed_id=feed_id,
                published_at=to_naive_utc(entry.published),
                announced=index in announce,
                image_url=entry.image_url or image,
                breaking=is_breaking(entry, edition),
                topics=topics.topics(entry, edition.language),
            )
        )
    return articles


def to_insert(
    prepared: Sequence[NewArticle], taken_keys: set[str], taken_urls: set[str]
) -> list[NewArticle]:
    """The prepared articles still unknown, oldest first (channels read chronologically);
    two entries with one canonical URL store one article."""
    chosen = []
    seen = set(taken_urls)
    for article in reversed(prepared):
        if article.key in taken_keys or article.canonical_url in seen:
            continue
        seen.add(article.canonical_url)
        chosen.append(article)
    return chosen


def corrections(edition: Edition, known: Sequence[tuple[Stored, FeedEntry]]) -> list[Correction]:
    """Known articles whose title, summary or language links changed.

    An entry whose summary came from its page (no description in the feed) keeps the
    stored summary: pages are not fetched again on every poll, only the title counts.
    """
    fixes = []
    for old, entry in known:
        if needs_page(entry, edition.language, edition.sites):
            title, summary = headline(entry), old.summary
        else:
            title, summary = edition_text(entry, edition, None)
        # Feeds seldom carry translations; the ones read from the REST API are kept.
        alternates = dump_alternates(entry.alternates) or old.alternates
        # Text first read from the REST API: the feed's version is a new baseline.
        changed = (title, summary) != (old.title, old.summary)
        edit = changed and old.text_source == "feed"
        if changed or alternates != old.alternates or old.text_source != "feed":
            fixes.append(Correction(old.article_id, title, summary, alternates, edit))
    return fixes


def extra_columns(key: str, alternates: Mapping[str, str], rest_keys: set[str]) -> dict[str, str]:
    """Article columns ``insert_article`` does not set: language links and text source."""
    values = {}
    if alternates.get(key):
        values["alternates"] = alternates[key]
    if key in rest_keys:
        values["text_source"] = "rest"
    return values
