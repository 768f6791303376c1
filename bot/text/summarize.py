"""Extractive, language-aware summaries for posts (DESIGN.md decision 8).

The editor's description is the best summary when there is one: a person wrote it for
this purpose. Many feeds only carry a WordPress teaser ("First words of the article
[…]", "… Continue reading"), a repeat of the title, or nothing; then the lead sentences of
the article text (the feed's full content, or the extracted page) stand in: a teaser is
cut mid-sentence, and a summary never is. Either way the result is whole sentences that
fit Telegram's budget in UTF-16 units, without the page furniture (bylines, photo
credits, "Read also" links, donation appeals, the SEO plugin's "The post … appeared first
on …" footer, sentences about a link the post no longer has) that editors and CMS
templates put in text.

The phrase lists are data in :mod:`bot.text.phrases`: add a language or a phrase there,
not in the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import chain

from bot.text.cms import (
    SiteName,
    is_link_pointer,
    mark_links,
    site_keys,
    strip_footer,
    unmark,
)
from bot.text.fold import fold
from bot.text.html import html_to_text
from bot.text.phrases import BOILERPLATE, TEASER_ENDINGS
from bot.text.sentences import iter_sentences
from bot.text.utf16 import truncate_utf16, utf16_len

__all__ = ["BOILERPLATE", "TEASER_ENDINGS", "is_teaser", "summarize", "trim_teaser"]

#: A description shorter than this (in characters) is a teaser, not a summary.
MIN_SUMMARY_CHARS = 60
#: Body paragraphs shorter than this without final punctuation are headings/captions.
_HEADING_CHARS = 120
ELLIPSIS = "…"

_TERMINAL = re.compile(r"[.!?…։:][\"'»”’“)\]]*$")
#: Link decorations after "read more": always stripped, or only when set off by a space
#: (a colon or dash glued to a word is kept; Armenian ends sentences with ":").
_LINK_MARKS = "|→›"
_SPACED_LINK_MARKS = "»>:–—-"
_CUT_TRAILER = " \t\n\u00a0,;:—–-([«„“\"'/|"
_LINK_TAG = re.compile(r"<a\s", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")


def _all_phrases(table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Every language's phrases, longest first (mislabelled feeds still get cleaned)."""
    phrases = {phrase for values in table.values() for phrase in values}
    return tuple(sorted(phrases, key=len, reverse=True))


def _opening_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Phrases at the start of a text, after optional brackets/quotes, as whole words."""
    alternatives = "|".join(
        re.escape(phrase) + ("" if not phrase[-1].isalnum() else r"(?!\w)") for phrase in phrases
    )
    return re.compile(rf"^[\s(\[«„“\"'*_—–-]*(?:{alternatives})", re.IGNORECASE)


def _kind_pattern(kind: str) -> re.Pattern[str]:
    return _opening_pattern(
        _all_phrases({lang: kinds.get(kind, ()) for lang, kinds in BOILERPLATE.items()})
    )


_RELATED = _kind_pattern("related")
_SENTENCE_FURNITURE = _opening_pattern(
    phrase
    for kind in ("credit", "appeal")
    for phrase in _all_phrases({lang: kinds.get(kind, ()) for lang, kinds in BOILERPLATE.items()})
)
_BYLINE = _kind_pattern("byline")
#: A "read more" phrase set apart from the text before it (by punctuation, an ellipsis,
#: a bracket, a pipe or a line break), so "he wants to read more" is not a teaser.
_ENDING = re.compile(
    r"(?:^|[.!?…։:\]|»>)(\[–—\n-])\s*(?P<phrase>"
    + "|".join(re.escape(phrase) for phrase in _all_phrases(TEASER_ENDINGS))
    + r")(?!\w)",
    re.IGNORECASE,
)


def _same_words(text: str, other: str) -> bool:
    """Equal after folding case and dropping punctuation and spacing."""
    return bool(other) and _NON_WORD.sub("", fold(text)) == _NON_WORD.sub("", fold(other))


def _is_byline(sentence: str) -> bool:
    """``By Jane Doe`` / ``Автор: …``: a short opening of capitalised names only."""
    match = _BYLINE.match(sentence)
    if match is None:
        return False
    if match.group().strip().endswith((":", "՝")):
        return len(sentence) < 100
    names = sentence[match.end() :].replace("/", " ").replace("|", " ").replace(",", " ").split()
    joiners = {"and", "in", "for", "the", "of", "и", "და", "և", "və"}
    return 0 < len(names) <= 8 and all(
        name[:1].isupper() or name.lower() in joiners for name in names
    )


def _is_furniture(sentence: str) -> bool:
    """Whether a sentence is a credit, byline or appeal, not content."""
    return bool(
        _SENTENCE_FURNITURE.match(sentence) or _is_byline(sentence) or _RELATED.match(sentence)
    )


def _tail_after(text: str, start: int, title: str) -> str:
    """What follows a "read more" phrase, minus the title WordPress repeats there."""
    rest = text[start:]
    if title:
        rest = re.sub(re.escape(title.strip()), "", rest, flags=re.IGNORECASE)
    return _NON_WORD.sub("", rest)


def _strip_link_tail(text: str) -> str:
    """Drop arrows, pipes and spaced ``» : —`` left where a link was."""
    while True:
        stripped = text.rstrip().rstrip(_LINK_MARKS).rstrip()
        spaced = stripped.rstrip(_SPACED_LINK_MARKS)
        if spaced != stripped and spaced[-1:].isspace():
            stripped = spaced
        if stripped == text:
            return text
        text = stripped


def _strip_ellipsis(text: str) -> str:
    """Drop a final ``…``, ``...``, ``[…]`` or ``(…)``."""
    candidate = text.rstrip().rstrip("])").rstrip()
    if not candidate.endswith(("…", "...")):
        return text
    return candidate.rstrip(".…").rstrip().rstrip("[(").rstrip()


def trim_teaser(text: str, title: str = "") -> str:
    """Remove a teaser's tail: "read more" links (with a repeated title after them),
    ``[…]``, ``[...]`` and ``…`` (the SEO footer goes first: :func:`strip_footer`).

    What remains may end mid-sentence; callers drop that fragment.
    """
    text = text.rstrip()
    window = max(0, len(text) - len(title) - 80)
    for match in reversed(list(_ENDING.finditer(text, window))):
        if not _tail_after(text, match.end(), title):
            text = text[: match.start("phrase")]
            break
    previous = None
    while previous != text:
        previous = text
        text = _strip_ellipsis(_strip_link_tail(text))
    return text


def is_teaser(text: str, title: str = "", sites: Iterable[str] = (), lang: str = "") -> bool:
    """Whether a description is a teaser rather than a summary: very short, the title
    again, cut (ending in an ellipsis, a "read more" link in any of the languages, or
    without a sentence's final punctuation). The SEO footer, recognised by ``title`` and
    the site's names ``sites``, does not count."""
    stripped = strip_footer(text.strip(), title, site_keys(sites), lang).strip()
    if len(stripped) < MIN_SUMMARY_CHARS or _same_words(stripped, title):
        return True
    return trim_teaser(stripped, title) != stripped or not _ends_sentence(stripped, lang)


def _paragraphs(text: str) -> Iterator[str]:
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if paragraph and not _RELATED.match(paragraph):
            yield paragraph


def _clean_sentences(paragraphs: Iterable[str], lang: str, *, guess: bool) -> Iterator[str]:
    """Sentences without furniture and without sentences about a dropped link (when the
    text kept no links, ``guess`` them from the words at a paragraph's end)."""
    for paragraph in paragraphs:
        previous: str | None = None
        for sentence in iter_sentences(paragraph, lang):
            if previous is not None and not _unwanted(previous, guess=False):
                yield previous
            previous = sentence
        if previous is not None and not _unwanted(previous, guess=guess):
            yield previous


def _unwanted(sentence: str, *, guess: bool) -> bool:
    return _is_furniture(sentence) or is_link_pointer(sentence, guess=guess)


def _whole(sentences: Iterator[str], lang: str, *, cut: bool) -> Iterator[str]:
    """Sentences of a description, lazily; when the description was cut, its last
    sentence is dropped unless it ends with a sentence's final punctuation."""
    previous: str | None = None
    for sentence in sentences:
        if previous is not None:
            yield previous
        previous = sentence
    if previous is not None and (not cut or _ends_sentence(previous, lang)):
        yield previous


def _ends_sentence(text: str, lang: str) -> bool:
    """Whether ``text`` ends with sentence-final punctuation (``:`` only in Armenian)."""
    match = _TERMINAL.search(text)
    return match is not None and (match.group()[0] != ":" or lang.startswith("hy"))


def _body_sentences(body: str, lang: str, title: str, *, guess: bool) -> Iterator[str]:
    """Lead sentences of the article text, skipping headings, captions and the title."""
    for index, paragraph in enumerate(_paragraphs(body)):
        if index == 0 and _same_words(paragraph, title):
            continue
        if len(paragraph) < _HEADING_CHARS and not _ends_sentence(paragraph, lang):
            continue
        yield from _clean_sentences((paragraph,), lang, guess=guess)


def _cut_long(sentence: str, limit: int) -> str:
    """A sentence longer than the whole budget: cut at a word boundary, add "…"."""
    head = truncate_utf16(sentence, limit - utf16_len(ELLIPSIS))
    space = max(head.rfind(" "), head.rfind("\u00a0"))
    if space >= len(head) // 2 and space > 0:
        head = head[:space]
    head = head.rstrip(_CUT_TRAILER)
    return head + ELLIPSIS if head else ""


def _skip_title(sentences: Iterator[str], title: str) -> Iterator[str]:
    """Drop a first sentence that only repeats the title (the post shows it already)."""
    for index, sentence in enumerate(sentences):
        if index or not _same_words(sentence, title):
            yield sentence


def _take(sentences: Iterator[str], chars: int) -> list[str]:
    """The first sentences, until they reach ``chars`` characters or run out."""
    head: list[str] = []
    length = 0
    for sentence in sentences:
        head.append(sentence)
        length += len(sentence) + 1
        if length > chars:
            break
    return head


def _fit(sentences: Iterable[str], limit: int) -> str:
    """Whole sentences in order while they fit ``limit`` UTF-16 units."""
    chosen: list[str] = []
    used = 0
    for sentence in sentences:
        cost = utf16_len(sentence) + (1 if chosen else 0)
        if used + cost > limit:
            if not chosen:
                return _cut_long(sentence, limit)
            break
        chosen.append(sentence)
        used += cost
    return " ".join(chosen)


def summarize(
    description_html: str | None,
    body_text: str | None,
    lang: str,
    limit: int = 600,
    title: str = "",
    *,
    body_html: str | None = None,
    sites: Iterable[str] = (),
    url: str = "",
) -> str:
    """A summary of whole sentences, at most ``limit`` UTF-16 units, "" if none.

    The editor's description comes first. When it is cut (a teaser: "[…]", "Read more",
    a sentence without its end) or shorter than ``MIN_SUMMARY_CHARS``, the lead of the
    article text is used instead: ``body_html`` (the feed's full content) or
    ``body_text`` (plain text, one paragraph per line, from the page); the description's
    whole sentences are the last resort. The SEO footer (recognised by ``title``, or a
    link to the item's ``url``, and the site's names ``sites``: outlet, feed title,
    domain), bylines, credits, "read also" lines, appeals and sentences about a dropped
    link are removed. Only a first sentence longer than ``limit`` is cut, at a word,
    with "…".
    """
    if limit <= 0:
        return ""
    keys = site_keys(sites)
    description = _plain(description_html, title, keys, lang, url)
    body = (
        _plain(body_html, title, keys, lang, url)
        if body_html
        else strip_footer(body_text or "", title, keys, lang)
    )
    trimmed = trim_teaser(description, title)
    cut = trimmed != description or not _ends_sentence(trimmed, lang)
    paragraphs = _paragraphs(trimmed)
    sentences = _skip_title(
        _clean_sentences(paragraphs, lang, guess=not _has_links(description_html)), title
    )
    stream = _whole(sentences, lang, cut=cut)
    head = _take(stream, MIN_SUMMARY_CHARS)
    if _same_words(" ".join(head), title):
        head = []
    if not cut and len(" ".join(head)) >= MIN_SUMMARY_CHARS:
        return unmark(_fit(chain(head, stream), limit))
    return unmark(
        _fit(_body_sentences(body, lang, title, guess=not _has_links(body_html)), limit)
        or _fit(chain(head, stream), limit)
    )


def _has_links(html: str | None) -> bool:
    """Whether the text kept its links (then only a marked one counts as dropped)."""
    return bool(html) and _LINK_TAG.search(html or "") is not None


def _plain(html: str | None, title: str, sites: tuple[SiteName, ...], lang: str, url: str) -> str:
    """Feed HTML to text with links that said "here" marked and the SEO footer removed."""
    if not html:
        return ""
    return strip_footer(html_to_text(mark_links(html, url, title)), title, sites, lang)
