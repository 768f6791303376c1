"""Rules-based sentence splitting for the outlet's five languages.

Summaries must never stop in the middle of a sentence, so the splitter decides where
sentences end. It is a small rule engine rather than a model: the rules are cheap (a
20 KB article splits in about two milliseconds), predictable, and each one is there because
a script behaves differently:

- English and Azerbaijani mark a new sentence with a capital letter; abbreviations
  (``Mr.``, ``U.S.``, ``və s.``) and initials end in a period without ending anything.
- Russian adds sentences that begin with a dash (dialogue), a digit or ``«``, and
  abbreviations such as ``т. е.``, ``г.`` and initials in ``А. С. Пушкин``.
- Georgian has no letter case, so any letter after ``.?!`` may start a sentence; only
  the abbreviation list (and who-said-it verbs after a quote) tells the two apart.
- Armenian ends sentences with ``։`` (U+0589) or, as typed on most keyboards, an ASCII
  colon; its ``.`` is a colon-like pause, and ``՞ ՜ ՛`` sit inside words.

A candidate boundary is a run of terminal punctuation (or emoji, in social text),
optional closing quotes, brackets and emoji, then whitespace. Whether it is a boundary
depends on the word before it and the words after it. Line breaks always end a sentence
(paragraphs from HTML and from text extraction arrive one per line). Colons end nothing
outside Armenian: a summary must not stop at "he said:".

Web text (comments under an article, social posts quoted in it) adds a few shapes: a
reply that opens with the @mention it answers, a sentence after a bracketed source
(``(BBC) The…``), a lower-case restart after a full stop, a list item's number
(``2. Квадрокоптер``) and emoji that close a line. The per-language lists live in
:mod:`bot.text.sentence_rules`.

Measured on the gold corpus with ``bench/sentences.py``.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.text.sentence_rules import (
    DASHES,
    EMOJI,
    OPENERS,
    SMILEY,
    Rules,
    rules_for,
)

__all__ = ["iter_sentences", "iter_spans", "split_sentences"]

#: How far back to look for the word before a period; abbreviations are shorter.
_WINDOW = 40
_PREV_TOKEN = re.compile(r"(\S+)\s*$")
_LINES = re.compile(r"[^\n\r\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+")
_DOTTED = re.compile(r"^(?:\w{1,3}\.)+\w{1,3}$")
_LEAD = re.compile(f"(?P<prefix>[{re.escape(OPENERS + DASHES)}\\s]*)(?P<word>\\w[\\w'’.-]*)?")
_STRIP_OPENERS = re.compile(f"^[{re.escape(OPENERS)}]+")
_LEADING_DIGITS = re.compile(r"^\d+(?=\D)")
#: ``?" Next``: a straight quote set off by a space closes the sentence when the
#: sentence has an odd number of them (it opened one).
_SPACED_QUOTE = re.compile(r'[ \t\xa0]+(?P<quote>")(?:\s+|$)')
#: A number that labels a line ("2004:") is short.
_LABEL_CHARS = 12
#: A list item's number (``2.``); a longer number before a period is a year or amount.
_LIST_DIGITS = 2
#: Letters in a word that no abbreviation reaches.
_PLAIN_WORD = 4
#: A sentence never starts with these (``13 чел. / км2``, ``ok. , then``).
_NOT_OPENING = ",;:/"
#: ``…ჯარიმა. . ეს``: a period standing alone is a typo that belongs to the sentence
#: before it, never a sentence of its own.
_STRAY_PERIOD = re.compile(r"\.(?=\s|$)")
#: What follows a Latin initial (``J. Smith``, ``J. R. R.``): a capitalised name.
_LATIN_NAME = re.compile(r"[A-Z](?:[a-z]|\.)")
#: ``…на байке @user ещё!``: in comment threads a reply opens with the @mention of the
#: one it answers, straight after the last word of the comment before (no punctuation,
#: which the candidates handle) and followed by the reply's first word.
_REPLY = re.compile(r"(?<=\w[ \t\xa0])(?=@\w+(?:[.-]\w+)*[ \t\xa0]+[^\W\d_])")
_MENTION = re.compile(r"(?<!\S)@\w")
#: A paragraph with this many @mentions is a comment thread.
_THREAD_MENTIONS = 2
#: ``…коснулся. (А. А. Ахматова) В третьем стихе…``: a bracketed aside, then a word.
#: The bracket's words stand apart (``(А. А. Ахматова)``, not ``one(s)`` or ``2)``).
_AFTER_BRACKET = re.compile(r"(?<!\S)\([^()\n]{0,80}[^\W\d_]\)[ \t\xa0]+(?=(?P<word>[^\W\d_]+))")
_EMOJI_TERM = re.compile(f"(?:{EMOJI}|{SMILEY})++")
_EMOJI_ONLY = re.compile(f"\\s*+(?:{EMOJI}++\\s*+)++")


@dataclass(frozen=True, slots=True)
class _Next:
    """The start of the text after a candidate: opening quotes/dashes and first word."""

    prefix: str
    word: str

    @property
    def has_dash(self) -> bool:
        return any(char in DASHES for char in self.prefix)

    @property
    def has_quote(self) -> bool:
        return any(char in OPENERS for char in self.prefix)

    @property
    def key(self) -> str:
        return self.word.rstrip("'’.-_").lower()

    @property
    def is_initial(self) -> bool:
        """``J.`` in ``J. Smith``: one letter and a period."""
        return len(self.word) == 2 and self.word[0].isalpha() and self.word[1] == "."


def _next_at(text: str, pos: int) -> _Next:
    match = _LEAD.match(text, pos)
    if match is None:  # pragma: no cover - the pattern matches the empty string
        return _Next("", "")
    return _Next(match.group("prefix"), match.group("word") or "")


def _words_before(text: str, end: int) -> tuple[str, str]:
    """The word before the period at ``end`` and the word before that (lowercased),
    without opening quotes or brackets; a number glued in front (``2016թ``) is dropped.
    """
    match = _PREV_TOKEN.search(text, max(0, end - _WINDOW), end)
    if match is None:
        return "", ""
    word = _LEADING_DIGITS.sub("", _STRIP_OPENERS.sub("", match.group(1)))
    start = match.start(1)
    before = _PREV_TOKEN.search(text, max(0, start - _WINDOW), start) if start > 0 else None
    prev = _STRIP_OPENERS.sub("", before.group(1).lower()) if before else ""
    return word, prev


def _keys(word: str, prev: str) -> tuple[str, ...]:
    """Lookup forms: ``т. е.`` and ``и т.д.`` are written with and without spaces, so
    the word is also joined with the one before it (``т.е``, ``və s``)."""
    if not prev:
        return (word,)
    joined = prev + word if prev.endswith(".") else word
    return word, joined, f"{prev} {word}"


def _period_is_boundary(text: str, match: re.Match[str], nxt: _Next, rules: Rules) -> bool:
    """Decide a period (the last character of the ``term`` group) before ``nxt``."""
    original, prev = _words_before(text, match.end("term") - 1)
    if not original:
        return True
    word = original.lower()
    keys = _keys(word, prev)
    if word in rules.before_number and nxt.word[:1].isdigit():
        return False
    # An initial: one letter, a capital where the script has case.
    is_letter = len(word) == 1 and word.isalpha() and (original.isupper() or not rules.cased)
    known = any(
        key in listed
        for listed in (rules.never, rules.soft, rules.final, rules.year_marks)
        for key in keys
    )
    if (known or is_letter) and any(char in ")]" for char in match.group("close")):
        return False
    if word in rules.year_marks:
        return prev[-1:].isdigit()
    if any(key in rules.final for key in keys):
        return True
    if any(key in rules.never for key in keys):
        return False
    if nxt.is_initial and (is_letter or known):
        return False
    if not (known or is_letter or _DOTTED.match(word)):
        return True
    if not rules.cased:
        return not is_letter or _latin_grade(original, nxt)
    return nxt.key in rules.starters or (nxt.has_quote and not is_letter)


def _latin_grade(letter: str, nxt: _Next) -> bool:
    """``ქულა A. SCIS-ის…``: in an uncased script a Latin capital before a period is an
    initial only when a Latin name follows in Latin letters (``J. Smith``); before an
    acronym or a number it is a grade, a class or a list letter that ends the sentence.
    A script-native name after it (``ჯორჯ W. ბუში``) keeps it an initial."""
    if not ("A" <= letter <= "Z") or not nxt.word or nxt.prefix.strip():
        return False
    if nxt.word[0].isdigit():
        return True
    return "A" <= nxt.word[0] <= "Z" and not _LATIN_NAME.match(nxt.word)


def _case_allows(nxt: _Next, rules: Rules) -> bool:
    """Whether the next word may start a sentence, by its letter case."""
    first = nxt.word[:1]
    if not first:
        return True
    if first.isdigit() or not rules.cased:
        return True
    return not first.islower()


def _exclaimed(term: str, close: str, nxt: _Next) -> bool:
    """``Is it good? u must read it``: after a bare ``?`` or ``!`` (no quote closing, no
    dash opening attribution) web text starts sentences in lower case too."""
    return term[-1] in "!?" and not close.strip() and not nxt.prefix.strip()


def _restarts_lower(text: str, match: re.Match[str], nxt: _Next, rules: Rules) -> bool:
    """``…в сетях. но они…``: web text starts sentences in lower case after a full stop
    too. Only after a plain word (no abbreviation can look like one: long, all letters,
    not listed) and before a plain word, so ``т. е. он`` and ``etc. and`` stay whole."""
    if not rules.lower_restarts or match.group("term") != ".":
        return False
    if match.group("close") or nxt.prefix.strip():
        return False
    original, prev = _words_before(text, match.end("term") - 1)
    word = original.lower()
    if len(word) < _PLAIN_WORD or not word.isalpha() or not nxt.word.isalpha():
        return False
    listed = (rules.never, rules.soft, rules.final, rules.year_marks, rules.before_number)
    return not any(key in names for names in listed for key in _keys(word, prev))


def _continues(nxt: _Next, close: str, rules: Rules) -> bool:
    """Attribution after a quote: ``«…?» — спросил он``, ``„…“ თქვა მან``, ``„…“. თქვა``
    (``close`` holds the closers around the punctuation)."""
    if not rules.cased:
        quoted = nxt.has_dash or any(char in "\"'»”’“" for char in close)
        return quoted and nxt.key in rules.attribution
    return nxt.has_dash and nxt.word[:1].islower()


def _is_boundary(text: str, match: re.Match[str], rules: Rules) -> bool:
    """Whether the candidate ``match`` (punctuation, closers, whitespace) ends a sentence."""
    if text.startswith(tuple(_NOT_OPENING), match.end()) or _STRAY_PERIOD.match(text, match.end()):
        return False
    nxt = _next_at(text, match.end())
    term = match.group("term")
    if _EMOJI_TERM.fullmatch(term):  # a new comment opens with a capital or a @mention
        if text.startswith("@", match.end()):
            return True
        return bool(nxt.word) and (nxt.word[0].isupper() or not rules.cased)
    if "։" in term:
        return True
    around = text[max(0, match.start() - 1) : match.start()] + match.group("close")
    if _continues(nxt, around, rules):
        return False
    if not _case_allows(nxt, rules) and not (
        _exclaimed(term, match.group("close"), nxt) or _restarts_lower(text, match, nxt, rules)
    ):
        return False
    if term == ":":
        before = text[max(0, match.start() - 2) : match.start()].rstrip()[-1:]
        return rules.colon_is_stop and not (before.isdigit() and nxt.word[:1].isdigit())
    if "…" in term or ".." in term or not term.endswith("."):
        return True
    return rules.period_is_stop and _period_is_boundary(text, match, nxt, rules)


def _is_label(line: str, start: int, match: re.Match[str]) -> bool:
    """``2004: A major quake…``: a number alone before a colon labels what follows, and
    ``2. Sell the car.`` numbers a list item: neither ends a sentence of its own."""
    if match.start() - start > _LABEL_CHARS:
        return False
    before = line[start : match.start()].strip()
    if match.group("term") in ":։":
        return before.isdigit()
    return match.group("term") == "." and before.isdigit() and len(before) <= _LIST_DIGITS


def _opens(match: re.Match[str], rules: Rules) -> bool:
    """After a closing bracket (a source, a year, a smile), a capitalised word that
    commonly opens a sentence opens one; a name may follow a bracket mid-sentence."""
    word = match.group("word")
    return rules.cased and word[0].isupper() and word.lower() in rules.starters


def _iter_line(line: str, offset: int, rules: Rules) -> Iterator[tuple[int, int]]:
    """Sentences of one line; emoji that close the line after the last sentence belong
    to it (``Вот это да! 😊🌷``)."""
    start = 0
    last: tuple[int, int] | None = None
    for end, after in _cuts(line, rules):
        if line[start:end].strip():
            if last is not None:
                yield last
            last = offset + start, offset + end
        start = after
    tail = line[start:]
    if last is not None and _EMOJI_ONLY.fullmatch(tail):
        last = last[0], offset + len(line)
    elif tail.strip():
        if last is not None:
            yield last
        last = offset + start, offset + len(line)
    if last is not None:
        yield last


def _cuts(line: str, rules: Rules) -> Iterator[tuple[int, int]]:
    """``(end, after)`` of each sentence end in one line, in order: punctuation that
    ends a sentence, and the @mention that opens a reply in web comments."""
    thread = len(_MENTION.findall(line)) >= _THREAD_MENTIONS
    replies = heapq.merge(
        (match.start() for match in _REPLY.finditer(line) if thread),
        (match.end() for match in _AFTER_BRACKET.finditer(line) if _opens(match, rules)),
    )
    reply = next(replies, None)
    start = quotes = counted = 0
    for match in rules.candidate.finditer(line):
        while reply is not None and reply < match.start():
            if reply >= start:
                yield reply, reply
                start = reply
            reply = next(replies, None)
        if match.start() < start:  # inside a quote already given to the sentence before
            continue
        if _is_label(line, start, match) or not _is_boundary(line, match, rules):
            continue
        end, after = match.end("close"), match.end()
        quote = _SPACED_QUOTE.match(line, end)
        quotes += line.count('"', counted, end)  # counted once: linear on any input
        counted = end
        if quote and quotes % 2:
            end, after = quote.end("quote"), quote.end()
        yield end, after
        start = after
    while reply is not None:
        if reply >= start:
            yield reply, reply
        reply = next(replies, None)


def iter_spans(text: str, lang: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` offsets of each sentence in ``text``, spaces excluded."""
    rules = rules_for(lang)
    for line in _LINES.finditer(text):
        for start, end in _iter_line(line.group(), line.start(), rules):
            chunk = text[start:end]
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk) - len(chunk.rstrip())
            yield start + lead, end - trail


def iter_sentences(text: str, lang: str) -> Iterator[str]:
    """Yield sentences lazily, so a summary can stop after the lead."""
    for start, end in iter_spans(text, lang):
        yield text[start:end]


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` into sentences with the rules of ``lang`` (``en``, ``ru``, ``ka``,
    ``hy``, ``az``; any other code gets the English rules without abbreviations).

    Sentences are returned as they appear in ``text`` (inner spacing kept), without
    surrounding whitespace; every line break ends a sentence.
    """
    return list(iter_sentences(text, lang))
