"""Summaries of items from WordPress feeds shaped like the outlet's, in its five languages.

The feed goes through the real parser (feedparser, sanitized HTML) and the summarizer
gets what ingestion gives it: the excerpt, the full content, the title and the site's
names (here the channel title). Every summary must be whole sentences of the article,
without ``[…]``, the SEO footer or the sentence about a link the post does not carry.
"""

from __future__ import annotations

import pytest

from bot.domain import FeedEntry
from bot.text.html import html_to_text
from bot.text.summarize import is_teaser, summarize
from bot.text.utf16 import utf16_len
from scheduler.parse import parse_feed
from tests.fakes.jamnews import ARTICLES, READ_MORE, SITE_NAME, Article, jamnews_feed

LANGS = sorted(ARTICLES)
HEADERS = {"content-type": "application/rss+xml; charset=UTF-8"}


def _entry(feed: bytes, article: Article) -> tuple[FeedEntry, str]:
    parsed = parse_feed(feed, HEADERS, article.home + "feed/")
    assert parsed.error is None and len(parsed.entries) == 1
    return parsed.entries[0], parsed.title


def _summary(article: Article, limit: int = 600, **shape: object) -> str:
    entry, channel_title = _entry(jamnews_feed(article, **shape), article)  # type: ignore[arg-type]
    return summarize(
        entry.summary_html,
        None,
        article.lang,
        limit=limit,
        title=entry.title,
        body_html=entry.content_html,
        sites=(channel_title,),
    )


def _lead_sentences(summary: str, article: Article) -> int:
    """How many of the article's sentences the summary is, from the first; fails when
    it is anything else (a cut sentence, a footer, a link sentence, an ellipsis)."""
    sentences = article.sentences
    for count in range(1, len(sentences) + 1):
        if summary == " ".join(sentences[:count]):
            return count
    raise AssertionError(f"not whole lead sentences of the article: {summary!r}")


def _assert_clean(summary: str, article: Article) -> None:
    for mark in ("[…]", "[...]", "…", "[", article.footer_text()):
        assert mark not in summary, (mark, summary)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "more",
    [" [&hellip;]", " [...]", "&hellip;", " [&#8230;]"],
    ids=["hellip", "dots", "bare", "numeric"],
)
def test_cut_excerpt_gives_way_to_the_content(lang: str, more: str) -> None:
    article = ARTICLES[lang]
    summary = _summary(article, more=more)
    _assert_clean(summary, article)
    assert _lead_sentences(summary, article) >= 3  # the content's lead, past the cut


@pytest.mark.parametrize("lang", LANGS)
def test_read_more_link_in_the_language_is_removed(lang: str) -> None:
    article = ARTICLES[lang]
    more = (
        f'&hellip; <a class="more-link" href="{article.url}">{READ_MORE[lang]}'
        f'<span class="screen-reader-text"> “{article.title}”</span></a>'
    )
    summary = _summary(article, more=more, content=False)
    _assert_clean(summary, article)
    assert READ_MORE[lang] not in summary
    assert _lead_sentences(summary, article) >= 1


@pytest.mark.parametrize("lang", LANGS)
def test_cut_excerpt_alone_keeps_only_its_whole_sentences(lang: str) -> None:
    article = ARTICLES[lang]
    summary = _summary(article, content=False)
    _assert_clean(summary, article)
    words = len(summary.split())
    assert words < 55  # the sentence the excerpt cut is not there, not even in part
    assert _lead_sentences(summary, article) >= 2


@pytest.mark.parametrize("lang", LANGS)
def test_editor_excerpt_is_the_summary_without_the_footer(lang: str) -> None:
    article = ARTICLES[lang]
    assert _summary(article, excerpt="editor") == article.editor_excerpt
    assert _summary(article, excerpt="editor", content=False) == article.editor_excerpt
    entry, channel_title = _entry(jamnews_feed(article, excerpt="editor"), article)
    description = html_to_text(entry.summary_html)
    assert article.footer_text() in description  # the feed does carry the footer
    assert not is_teaser(description, entry.title, (channel_title,), lang)
    auto, _ = _entry(jamnews_feed(article), article)
    assert is_teaser(html_to_text(auto.summary_html), entry.title, (channel_title,), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_whole_content_drops_the_link_sentence_and_the_footer(lang: str) -> None:
    article = ARTICLES[lang]
    summary = _summary(article, excerpt="none", limit=4000)
    assert summary == " ".join(article.sentences)
    assert utf16_len(summary) <= 4000


@pytest.mark.parametrize("lang", LANGS)
def test_footer_is_found_by_title_and_site_not_by_wording(lang: str) -> None:
    article = ARTICLES[lang]
    lead = " ".join(article.paragraphs[0])
    made_up = f"{lead} Zzz {article.title} qqq vvv {SITE_NAME} xxx."
    assert summarize(made_up, None, lang, title=article.title, sites=[SITE_NAME]) == lead
    # Without the site's name (or the title) the same words are an ordinary sentence.
    kept = summarize(made_up, None, lang, title=article.title, sites=["Other Site"])
    assert kept.startswith(lead) and kept != lead


def test_a_sentence_naming_the_site_and_the_title_among_many_words_is_kept() -> None:
    article = ARTICLES["en"]
    lead = " ".join(article.paragraphs[0])
    quoted = (
        f"Asked on Monday about the report {article.title}, which {SITE_NAME} published in"
        " the spring together with two partner newsrooms from Baku and Yerevan, the"
        " ministry declined to comment on the figures."
    )
    text = f"<p>{lead}</p><p>{quoted}</p>"
    assert summarize(text, None, "en", title=article.title, sites=[SITE_NAME]) == (
        f"{lead} {quoted}"
    )


@pytest.mark.parametrize(
    ("lang", "pointer"),
    [
        ("en", "You can read the report here."),
        ("ru", "С докладом можно ознакомиться тут."),
        ("ka", "ანგარიში შეგიძლიათ იხილოთ აქ."),
        ("hy", "Զեկույցը կարող եք կարդալ այստեղ։"),
        ("az", "Hesabatı oxumaq üçün buradan."),
        ("az", "Hesabatın tam mətni ilə buradan tanış olmaq olar."),
        ("ka", "მარშრუტების სრულ სიას შეგიძლიათ აქ გაეცნოთ."),
    ],
)
def test_plain_text_sentence_ending_on_here_is_dropped_at_a_paragraph_end(
    lang: str, pointer: str
) -> None:
    article = ARTICLES[lang]
    lead = " ".join(article.paragraphs[0])
    assert summarize(None, f"{lead} {pointer}", lang) == lead
    # Inside a paragraph it is a sentence like any other.
    assert summarize(None, f"{pointer} {lead}", lang) == f"{pointer} {lead}"


@pytest.mark.parametrize("lang", LANGS)
def test_footer_of_a_retitled_item_is_found_by_its_link(lang: str) -> None:
    """The editor changed the title after publishing: the footer links the old one."""
    article = ARTICLES[lang]
    entry, channel_title = _entry(jamnews_feed(article, excerpt="editor"), article)
    retitled = "Updated: " + article.editor_excerpt.split()[0] + " 2026"

    def summary(url: str) -> str:
        return summarize(
            entry.summary_html, None, lang, title=retitled, sites=(channel_title,), url=url
        )

    assert summary(entry.url) == article.editor_excerpt
    assert summary(entry.url.replace("https://", "http://www.") + "#top") == (
        article.editor_excerpt
    )
    assert article.title in summary("")  # without the link the old title is not known


def test_here_is_guessed_only_in_text_that_kept_no_links() -> None:
    lead = " ".join(ARTICLES["ru"].paragraphs[0])
    quote = "Жители говорят, что им нравится жить здесь."
    linked = f'<p>{lead} <a href="https://jam-news.net/x/">Совет</a> так решил. {quote}</p>'
    assert summarize(linked, None, "ru").endswith(quote)  # links kept: not a pointer
    assert summarize(f"<p>{lead} {quote}</p>", None, "ru") == lead  # no links: guessed
    assert summarize(None, f"{lead} {quote}", "ru") == lead  # page text: guessed


def test_site_name_counts_only_as_whole_words() -> None:
    """A short site name inside another word does not make a paragraph a footer."""
    title = "Tbilisi opens a new metro station"
    text = f"<p>{title} on Monday. The weekly newsletter has more on the line.</p>"
    kept = summarize(text, None, "en", title=title, sites=["News"])
    assert kept == f"{title} on Monday. The weekly newsletter has more on the line."
    footer = f"<p>Tbilisi: {title} on Monday on our News.</p>"
    assert summarize(footer, None, "en", title=title, sites=["News"]) == ""


def test_footer_is_one_sentence_unless_the_title_has_a_full_stop() -> None:
    title = "Who pays for the metro? The city, for now"
    lead = " ".join(ARTICLES["en"].paragraphs[0])
    restated = f"<p>{lead}</p><p>{title}. JAMnews has the figures.</p>"
    assert summarize(restated, None, "en", title=title, sites=["JAMnews"]).endswith(
        "JAMnews has the figures."
    )
    footer = f"<p>{lead}</p><p>The post {title} appeared first on JAMnews.</p>"
    assert summarize(footer, None, "en", title=title, sites=["JAMnews"]) == lead
