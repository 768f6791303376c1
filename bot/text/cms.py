"""What WordPress and its SEO plugins append to feed excerpts and content.

Yoast SEO, Rank Math and AIOSEO add an RSS footer to every item, in the site's language:
"The post <title> appeared first on <site>." in English, "Сообщение <title> появились
сначала на <site>." in Russian, other wordings in Georgian, Armenian and Azerbaijani, and
sites edit the template freely. A list of wordings cannot keep up, so the footer is
recognised by what it must contain: the item's own title and the site's name, joined by
a few words. A trailing sentence (more than one only where the title has a full stop)
made of the title, a site name and at most :data:`MAX_FOOTER_WORDS_CHARS` letters of
other words is the footer, whatever the language.

When an editor changed the title after publishing, the footer still holds the old one,
but its link still points at the item: such a link's text is replaced by the current
title first.

Editors also write "The full report is available <a>here</a>." Once the post drops the
link, such a sentence points at nothing. Links whose whole text is a pointer word are
marked before the HTML becomes text, so the sentence holding one can be dropped in any
word order. In text that kept no links (an extracted page, a description stripped of its
tags) a short last sentence of a paragraph with a pointer word among its last words is
dropped too; where links were kept, "We live here." is an ordinary sentence.

Everything here is pure and linear in the input.
"""

from __future__ import annotations

import html as stdlib_html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.text.fold import fold
from bot.text.sentences import iter_spans

__all__ = [
    "LINK_MARK",
    "POINTERS",
    "SiteName",
    "is_link_pointer",
    "mark_links",
    "site_keys",
    "strip_footer",
    "unmark",
]

#: Letters (word characters) a footer may hold besides the title and the site's name:
#: "Сообщение … появились сначала на …" has 26, the longest known wordings about 40.
MAX_FOOTER_WORDS_CHARS = 80
#: Placed after the text of a link that only points ("here"): a private-use character
#: that no feed text carries and that survives the HTML-to-text step.
LINK_MARK = "\ue000"

#: Link texts that only point at the link, per language (data: add words here).
POINTERS: dict[str, tuple[str, ...]] = {
    "en": ("here", "click here", "this link", "the link", "link", "at this link"),
    "ru": ("здесь", "тут", "по ссылке", "ссылке", "ссылка", "по этой ссылке", "этой ссылке"),
    "ka": ("აქ", "ბმულზე", "ბმული", "ამ ბმულზე", "ლინკზე", "ლინკი"),
    "hy": ("այստեղ", "հղումով", "հղում", "այս հղումով"),
    "az": ("buradan", "burada", "buraya", "link", "linkə", "linkdən", "keçid", "keçiddən"),
}
#: Pointer words that close a sentence about a link (see ``_POINTER_REACH``).
_FINAL_POINTERS = frozenset({"here", "здесь", "тут", "აქ", "այստեղ", "buradan", "burada"})

_NON_WORD = re.compile(r"[\W_]+")
_ANCHOR = re.compile(r"(<a\b[^<>]{0,2000}>)([^<]{1,400})(</a\s*>)", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_SITE_SEPARATORS = re.compile(r"\s+[-–—|:·•]\s+|\s*[|·•]\s*")
_WORD = re.compile(r"\w+")
#: A plain-text sentence about a link is short and has its pointer word among its last
#: words: last in English and Russian, before the verb in Georgian, Armenian and
#: Azerbaijani ("…buradan tanış olmaq olar.").
_POINTER_SENTENCE_CHARS = 160
_POINTER_REACH = 4
_TITLE_BREAK = re.compile(r"[.!?…]+\s")
_HY_TITLE_BREAK = re.compile(r"[.!?…։:]+\s")
#: How much of the text's end is searched for the footer, beyond the title's length.
_FOOTER_WINDOW = 600
_POINTER_KEYS = frozenset(fold(phrase) for phrases in POINTERS.values() for phrase in phrases)


def _key(text: str) -> str:
    """Letters only, folded: punctuation, quotes and spacing differ between copies."""
    return _NON_WORD.sub("", fold(text))


@dataclass(frozen=True, slots=True)
class SiteName:
    """One name of the site: its letters (``key``) and the name as whole words, with any
    punctuation or none between them ("jam-news" is "JAMnews", not "pyjamnewsletter")."""

    key: str
    words: re.Pattern[str]


def site_keys(names: Iterable[str]) -> tuple[SiteName, ...]:
    """The site's names: each name whole and each part of a channel title such as
    "JAMnews - Армения, Грузия, Азербайджан"; names under 3 letters are dropped."""
    spellings: dict[str, dict[str, None]] = {}
    for name in names:
        for part in (name, *_SITE_SEPARATORS.split(name)):
            key = _key(part)
            if len(key) >= 3:
                words = "[\\W_]*".join(re.escape(word) for word in _WORD.findall(fold(part)))
                spellings.setdefault(key, {})[words] = None
    sites = [
        SiteName(key, re.compile(f"(?<![^\\W_])(?:{'|'.join(words)})(?![^\\W_])"))
        for key, words in spellings.items()
    ]
    return tuple(sorted(sites, key=lambda site: len(site.key), reverse=True))


def _is_footer(segment: str, title_key: str, sites: tuple[SiteName, ...]) -> bool:
    """The segment holds the title and a site's name and few other letters."""
    key = _key(segment)
    if title_key not in key:
        return False
    rest = key.replace(title_key, "", 1)
    folded = fold(segment)
    for site in sites:
        if site.key in rest and site.words.search(folded):
            return len(rest.replace(site.key, "", 1)) <= MAX_FOOTER_WORDS_CHARS
    return False


def strip_footer(text: str, title: str, sites: tuple[SiteName, ...], lang: str) -> str:
    """``text`` (one paragraph per line) without the SEO plugin's footer at its end.

    The footer is the last paragraph, or the last sentences of it when the CMS ran it
    into the excerpt; ``sites`` are :func:`site_keys`.
    """
    title_key = _key(title)
    stripped = text.rstrip()
    if not title_key or not sites or not stripped:
        return text
    head, newline, last = stripped.rpartition("\n")
    window = max(0, len(last) - len(title) - _FOOTER_WINDOW)
    # The footer is one sentence, or more only where the title itself has a full stop.
    breaks = (_HY_TITLE_BREAK if lang.startswith("hy") else _TITLE_BREAK).findall(title)
    starts = [start for start, _ in iter_spans(last, lang) if start >= window]
    for start in reversed(starts[-1 - len(breaks) :]):  # the shortest tail first
        if _is_footer(last[start:], title_key, sites):
            return (head + newline + last[:start]).rstrip()
    return text


def mark_links(html: str, item_url: str = "", title: str = "") -> str:
    """Put :data:`LINK_MARK` after the text of each link that only says "here", and
    give a link to the item itself the item's current title as its text: the footer
    links the title it had when published, which an editor may have changed since."""
    if "<a" not in html and "<A" not in html:
        return html
    own = _url_key(item_url)

    def mark(match: re.Match[str]) -> str:
        if own and title:
            href = _HREF.search(match.group(1))
            if href and _url_key(stdlib_html.unescape(href.group(1))) == own:
                return match.group(1) + stdlib_html.escape(title) + match.group(3)
        text = " ".join(stdlib_html.unescape(match.group(2)).split())
        if fold(text.strip(".,:;!?…»«\"'()")) not in _POINTER_KEYS:
            return match.group()
        return match.group(1) + match.group(2) + match.group(3) + LINK_MARK

    return _ANCHOR.sub(mark, html)


def _url_key(url: str) -> str:
    """A URL without scheme, ``www.``, fragment and trailing slash, for comparison."""
    key = url.strip().split("#", 1)[0].split("://", 1)[-1].removeprefix("www.")
    return key.rstrip("/").lower()


def is_link_pointer(sentence: str, *, guess: bool) -> bool:
    """A sentence about a link that the post no longer carries: it holds a marked link,
    or, when the text kept no links (``guess``: the last sentence of a paragraph of an
    extracted page), it is short and has a pointer word among its last words
    ("…можно прочитать здесь.", "…buradan tanış olmaq olar.")."""
    if LINK_MARK in sentence:
        return True
    if not guess or len(sentence) > _POINTER_SENTENCE_CHARS:
        return False
    words = _WORD.findall(sentence[-_POINTER_SENTENCE_CHARS:])
    return any(fold(word) in _FINAL_POINTERS for word in words[-_POINTER_REACH:])


def unmark(text: str) -> str:
    return text.replace(LINK_MARK, "")
