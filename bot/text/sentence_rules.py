"""Per-language rules for the sentence splitter (:mod:`bot.text.sentences`).

Each script gets the punctuation that ends its sentences and the abbreviation lists that
tell a period inside a sentence from one that ends it. The lists are small and written
by hand: every entry is a word that news in the language abbreviates, not a word seen
once in the gold corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CLOSERS",
    "DASHES",
    "EMOJI",
    "OPENERS",
    "SMILEY",
    "SPACED_CLOSER",
    "Rules",
    "rules_for",
]

CLOSERS = "\"'»”’“)]›"
OPENERS = "\"'«„“‘‚‹([¿¡"
DASHES = "—–-"
EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe0f\u200d\U000e0020-\U000e007f]"
)
SMILEY = r"(?:(?<!\S)[:;=]-?[)(DPp]++|(?<!\))\){2,}+)"
SPACED_CLOSER = "[”»“]"


@dataclass(frozen=True, slots=True)
class Rules:
    """What one script needs to decide a boundary.

    ``never`` holds abbreviations always followed by more of the sentence (titles before
    names, ``e.g.``). ``soft`` holds abbreviations that sometimes end a sentence
    (``U.S.``, ``a.m.``): in cased scripts they end one only before a common sentence
    opener from ``starters`` or a quote; in Georgian they end one unless a bracket
    closes after them. ``before_number`` abbreviations never end a sentence before a number
    (``No. 5``, ``стр. 12``). ``final`` abbreviations (``и т.д.``, ``və s.``) end a
    sentence like an ordinary word; ``year_marks`` (``2018 г.``) do so only after a
    number (``г. Москва`` is a city). ``attribution`` lists who-said-it verbs that continue a
    sentence after a closing quote or dash in uncased Georgian. ``lower_restarts``: web
    text in the language starts sentences in lower case after a full stop (measured on the
    English and Russian treebanks; Azerbaijani news has none, only typos where a comma was
    meant).
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
    lower_restarts: bool = False


def _candidate(terminators: str) -> re.Pattern[str]:
    """Terminal punctuation (or emoji) run, adjacent closers and emoji, whitespace.

    Built to stay linear on hostile input (``"!" * 5000``, ``")" * 30``): a run is only
    tried from its first character (lookbehind) and never given back (possessive
    quantifiers). The leading lookahead lists every possible first character, which lets
    the engine skip ahead by character class.
    """
    terms = re.escape(terminators)
    punct = f"(?<![{terms}])[{terms}]++"
    emoji = f"(?<!{EMOJI})(?:{EMOJI}|{SMILEY})++"
    close = (
        f"[{re.escape(CLOSERS)}]*+{EMOJI}*+(?:[ \\t\\xa0]++(?:{SMILEY}|{SPACED_CLOSER})(?=\\s))*+"
    )
    first = f"(?=[{terms}:;=)]|{EMOJI})"
    return re.compile(f"{first}(?P<term>{punct}|{emoji})(?P<close>{close})\\s+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Latin titles and abbreviations seen in every language's news (foreign names).
_SHARED_NEVER = _words("mr mrs ms dr prof st jr sr mt messrs sens reps p.s")

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
_RU_SOFT = _words("млн млрд тыс руб долл коп н.э до.н.э см с в чел")
_RU_FINAL = _words("т.д т.п др и.т.д и.т.п")
_RU_YEAR = _words("г гг")
_RU_STARTERS = _words(
    """он она оно они это этот эта эти в во на но и а как так однако по при мы я вы его ее
    её их тогда также кроме после до для из за не что когда если там здесь тем сейчас
    теперь уже все всё у к о об от ему ей им нам вам мне нас вас"""
)
_RU_BEFORE_NUMBER = _words("ст стр с № рис табл гл п пп ч т тел род ум")

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
    იტყობინება განაცხადეს აღნიშნეს უპასუხეს დაინტერესდა გაიხსენა აღიარა დაადასტურა
    გააფრთხილა განაგრძო შესძახა წამოიძახა დაიყვირა ჩაილაპარაკა იხუმრა დაასკვნა აცნობა"""
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

_RULES: dict[str, Rules] = {
    "en": Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=True,
        never=_SHARED_NEVER | _EN_NEVER,
        soft=_EN_SOFT,
        starters=_EN_STARTERS,
        before_number=_EN_BEFORE_NUMBER,
        final=_EN_FINAL,
        lower_restarts=True,
    ),
    "ru": Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=True,
        never=_SHARED_NEVER | _RU_NEVER,
        soft=_RU_SOFT,
        starters=_RU_STARTERS,
        before_number=_RU_BEFORE_NUMBER,
        final=_RU_FINAL,
        year_marks=_RU_YEAR,
        lower_restarts=True,
    ),
    "ka": Rules(
        candidate=_candidate(_LATIN_TERMINATORS),
        cased=False,
        never=_SHARED_NEVER | _KA_NEVER,
        soft=_KA_SOFT,
        before_number=_KA_BEFORE_NUMBER,
        attribution=_KA_ATTRIBUTION,
        final=_KA_FINAL,
        year_marks=_KA_YEAR,
    ),
    "hy": Rules(
        candidate=_candidate(_LATIN_TERMINATORS + "։:"),
        cased=True,
        never=_SHARED_NEVER | _HY_NEVER,
        soft=_HY_SOFT,
        before_number=_HY_BEFORE_NUMBER,
        colon_is_stop=True,
        period_is_stop=False,
    ),
    "az": Rules(
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
_FALLBACK = Rules(candidate=_candidate(_LATIN_TERMINATORS), cased=True)


def rules_for(lang: str) -> Rules:
    """Rules for a language code such as ``ru`` or ``ru-RU``; English-like otherwise."""
    return _RULES.get(lang.lower().replace("_", "-").split("-")[0], _FALLBACK)
