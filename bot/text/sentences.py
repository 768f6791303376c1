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

Measured on the gold corpus with ``bench/sentences.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["iter_sentences", "iter_spans", "split_sentences"]

_CLOSERS = "\"'»”’“)]›"
_OPENERS = "\"'«„“‘‚‹([¿¡"
_DASHES = "—–-"
_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe0f\u200d\u20e3\U000e0020-\U000e007f]"
)
_SMILEY = r"(?:(?<!\S)[:;=]-?[)(DPp]++|(?<!\))\){2,}+)"
_SPACED_CLOSER = "[”»“]"

#: How far back to look for the word before a period; abbreviations are shorter.
_WINDOW = 40
_PREV_TOKEN = re.compile(r"(\S+)\s*$")
_LINES = re.compile(r"[^\n\r\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+")
_DOTTED = re.compile(r"^(?:\w{1,3}\.)+\w{1,3}$")
_LEAD = re.compile(f"(?P<prefix>[{re.escape(_OPENERS + _DASHES)}\\s]*)(?P<word>\\w[\\w'’.-]*)?")
_STRIP_OPENERS = re.compile(f"^[{re.escape(_OPENERS)}]+")
_LEADING_DIGITS = re.compile(r"^\d+(?=\D)")
#: ``?" Next``: a straight quote set off by a space closes the sentence when the
#: sentence has an odd number of them (it opened one).
_SPACED_QUOTE = re.compile(r'[ \t\xa0]+(?P<quote>")(?:\s+|$)')
#: A number that labels a line ("2004:") is short.
_LABEL_CHARS = 12
_EMOJI_TERM = re.compile(f"(?:{_EMOJI}|{_SMILEY})++")


@dataclass(frozen=True, slots=True)
class _Rules:
    """What one script needs to decide a boundary.

    ``never`` holds abbreviations always followed by more of the sentence (titles before
    names, ``e.g.``). ``soft`` holds abbreviations that sometimes end a sentence
    (``U.S.``, ``a.m.``): in cased scripts they end one only before a common sentence
    opener from ``starters`` or a quote; in Georgian they end one unless a bracket
    closes after them. ``before_number`` abbreviations never end a sentence before a number
    (``No. 5``, ``стр. 12``). ``final`` abbreviations (``и т.д.``, ``və s.``) end a
    sentence like an ordinary word; ``year_marks`` (``2018 г.``) do so only after a
    number (``г. Москва`` is a city). ``attribution`` lists who-said-it verbs that continue a
    sentence after a closing quote or dash in uncased Georgian.
    """

    candidate: re.Pattern[str]
    cased: bool
    never: frozenset[str] = frozenset()
    soft: frozenset[str] = frozenset()
    starters: frozenset[str] = frozenset()
    before_number: frozenset[str] = frozenset()
    attribution: frozenset[str] = frozenset()
    final: frozenset[str] = frozenset()
    year_marks: frozenset[str] = frozenset()
    colon_is_stop: bool = False
    period_is_stop: bool = True


def _candidate(terminators: str) -> re.Pattern[str]:
    """Terminal punctuation (or emoji) run, adjacent closers and emoji, whitespace.

    Built to stay linear on hostile input (``"!" * 5000``, ``")" * 30``): a run is only
    tried from its first character (lookbehind) and never given back (possessive
    quantifiers). The leading lookahead lists every possible first character, which lets
    the engine skip ahead by character class.
    """
    terms = re.escape(terminators)
    punct = f"(?<![{terms}])[{terms}]++"
    emoji = f"(?<!{_EMOJI})(?:{_EMOJI}|{_SMILEY})++"
    close = (
        f"[{re.escape(_CLOSERS)}]*+{_EMOJI}*+"
        f"(?:[ \\t\\xa0]++(?:{_EMOJI}++|{_SMILEY}|{_SPACED_CLOSER})(?=\\s))*+"
    )
    first = f"(?=[{terms}:;=)]|{_EMOJI})"
    return re.compile(f"{first}(?P<term>{punct}|{emoji})(?P<close>{close})\\s+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Latin titles and abbreviations seen in every language's news (foreign names).
_SHARED_NEVER = _words("mr mrs ms dr prof st jr sr mt messrs sens reps")

_EN_NEVER = _words(
    """mme mlle sen rep gov gen col lt sgt capt cmdr adm maj rev hon pres supt insp det
    ft e.g i.e cf viz ca vs v op"""
)
_EN_FINAL = _words("etc")
_EN_SOFT = _words("u.s u.k u.n e.u d.c a.m p.m inc corp ltd co bros llc plc dept univ est al no")
_EN_STARTERS = _words(
    """the a an he she it they we i you this that these those there but and so in on at as
    if when while after before however his her its their our my it's i'm we're they're
    what who why how where some many most one two three all both police officials
    meanwhile yet still then now today yesterday for by with from to not during since"""
)
_EN_BEFORE_NUMBER = _words(
    "no nos vol p pp art fig ch sec jan feb mar apr jun jul aug sep sept oct nov dec"
)

_RU_NEVER = _words(
    """т.е т.к т.н т.ч т.о им ул пр просп пл пер наб б-р бул св проф акад доц ген тов гр
    г-н г-жа дж о р оз пос д ж.д ст ст.ст напр англ рус лат нем франц фр греч итал исп араб
    кит яп укр груз арм азерб ок вв"""
)
_RU_SOFT = _words("млн млрд тыс руб долл коп н.э до.н.э см с")
_RU_FINAL = _words("т.д т.п др и.т.д и.т.п")
_RU_YEAR = _words("г гг")
_RU_STARTERS = _words(
    """он она оно они это этот эта эти в во на но и а как так однако по при мы я вы его ее
    её их тогда также кроме после до для из за не что когда если там здесь тем сейчас
    теперь уже все всё у к о об от"""
)
_RU_BEFORE_NUMBER = _words("ст стр с № рис табл гл п пп ч т")

_KA_NEVER = _words(
    """ე.ი ე.წ ქ ს ბ ქ-ნი ბ-ნი ბ-ნმა ქ-ნმა ქალბ ბატ პროფ აკად დოქტ ძვ მაგ იხ შდრ ძვ.წ წმ
    ბერძნ ძვ.ბერძნ ლათ ინგლ ესპ ესტ ფრ ფრანგ გერმ იტალ რუს არაბ ებრ სხვ დაახლ ჩრდ სამხ
    აღმ დას სოფ არქ შემოკლ აბრევ ტ გვ ქნ მლნ მლრდ"""
)
_KA_SOFT = _words("სთ ათ ლ კმ")
_KA_FINAL = _words("ა.შ")
_KA_YEAR = _words("წ წწ")
_KA_BEFORE_NUMBER = _words("გვ ნ მუხ")
_KA_ATTRIBUTION = _words(
    """თქვა თქვეს ამბობს ამბობენ განაცხადა განუცხადა აცხადებს დაამატა ჰკითხა იკითხა უთხრა
    მიუგო აღნიშნა უპასუხა შენიშნა წერს დაწერა განმარტა ჩათვალა დასძინა ჰკითხეს მითხრა
    იტყობინება"""
)

_HY_NEVER = _words("պրն տկն օրին մ.թ.ա մ.թ դոկտ պրոֆ ակադ")
_HY_SOFT = _words("թ թթ դ դդ մլն մլրդ հազ")
_HY_BEFORE_NUMBER = _words("էջ հ")

_AZ_NEVER = _words("akad dos küç şəh ş r məs c qəs k mək ak")
_AZ_SOFT = _words("b.e e.ə b.e.ə e.ə.ə mln mlrd min man")
_AZ_FINAL = frozenset({"və s", "və b"})
_AZ_STARTERS = _words(
    """bu o onlar biz mən sən siz lakin ancaq amma və bununla həmçinin bundan sonra əvvəl
    indi dünən həmin əgər çünki"""
)
_AZ_BEFORE_NUMBER = _words("s səh no bənd mad")

_LATIN_TERMINATORS = ".!?…"

_RULES: dict[str, _Rules] = {
    "en": _Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=True,
        never=_SHARED_NEVER | _EN_NEVER,
        soft=_EN_SOFT,
        starters=_EN_STARTERS,
        before_number=_EN_BEFORE_NUMBER,
        final=_EN_FINAL,
    ),
    "ru": _Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=True,
        never=_SHARED_NEVER | _RU_NEVER,
        soft=_RU_SOFT,
        starters=_RU_STARTERS,
        before_number=_RU_BEFORE_NUMBER,
        final=_RU_FINAL,
        year_marks=_RU_YEAR,
    ),
    "ka": _Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=False,
        never=_SHARED_NEVER | _KA_NEVER,
        soft=_KA_SOFT,
        before_number=_KA_BEFORE_NUMBER,
        attribution=_KA_ATTRIBUTION,
        final=_KA_FINAL,
        year_marks=_KA_YEAR,
    ),
    "hy": _Rules(
        candidate=_candidate(_LATIN_TERMINATORS + "։:"),
        cased=True,
        never=_SHARED_NEVER | _HY_NEVER,
        soft=_HY_SOFT,
        before_number=_HY_BEFORE_NUMBER,
        colon_is_stop=True,
        period_is_stop=False,
    ),
    "az": _Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=True,
        never=_SHARED_NEVER | _AZ_NEVER,
        soft=_AZ_SOFT,
        starters=_AZ_STARTERS,
        before_number=_AZ_BEFORE_NUMBER,
        final=_AZ_FINAL,
    ),
}
#: Unknown languages: no abbreviation lists (initials and ``U.S.``-style acronyms are
#: still recognised by their shape).
_FALLBACK = _Rules(candidate=_candidate(_LATIN_TERMINATORS), cased=True)


def _rules_for(lang: str) -> _Rules:
    """Rules for a language code such as ``ru`` or ``ru-RU``; English-like otherwise."""
    return _RULES.get(lang.lower().replace("_", "-").split("-")[0], _FALLBACK)


@dataclass(frozen=True, slots=True)
class _Next:
    """The start of the text after a candidate: opening quotes/dashes and first word."""

    prefix: str
    word: str

    @property
    def has_dash(self) -> bool:
        return any(char in _DASHES for char in self.prefix)

    @property
    def has_quote(self) -> bool:
        return any(char in _OPENERS for char in self.prefix)

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


def _period_is_boundary(text: str, match: re.Match[str], nxt: _Next, rules: _Rules) -> bool:
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
        return not is_letter
    return nxt.key in rules.starters or (nxt.has_quote and not is_letter)


def _case_allows(nxt: _Next, rules: _Rules) -> bool:
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


def _continues(nxt: _Next, close: str, rules: _Rules) -> bool:
    """Attribution after a quote: ``«…?» — спросил он``, ``„…“ თქვა მან``, ``„…“. თქვა``
    (``close`` holds the closers around the punctuation)."""
    if not rules.cased:
        quoted = nxt.has_dash or any(char in "\"'»”’“" for char in close)
        return quoted and nxt.key in rules.attribution
    return nxt.has_dash and nxt.word[:1].islower()


def _is_boundary(text: str, match: re.Match[str], rules: _Rules) -> bool:
    """Whether the candidate ``match`` (punctuation, closers, whitespace) ends a sentence."""
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
    if not _case_allows(nxt, rules) and not _exclaimed(term, match.group("close"), nxt):
        return False
    if term == ":":
        before = text[max(0, match.start() - 2) : match.start()].rstrip()[-1:]
        return rules.colon_is_stop and not (before.isdigit() and nxt.word[:1].isdigit())
    if "…" in term or ".." in term or not term.endswith("."):
        return True
    return rules.period_is_stop and _period_is_boundary(text, match, nxt, rules)


def _is_label(line: str, start: int, match: re.Match[str]) -> bool:
    """``2004: A major quake…``: a number alone before a colon labels what follows."""
    if match.group("term") not in ":։" or match.start() - start > _LABEL_CHARS:
        return False
    return line[start : match.start()].strip().isdigit()


def _iter_line(line: str, offset: int, rules: _Rules) -> Iterator[tuple[int, int]]:
    start = quotes = counted = 0
    for match in rules.candidate.finditer(line):
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
        if line[start:end].strip():
            yield offset + start, offset + end
        start = after
    if line[start:].strip():
        yield offset + start, offset + len(line)


def iter_spans(text: str, lang: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` offsets of each sentence in ``text``, spaces excluded."""
    rules = _rules_for(lang)
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
