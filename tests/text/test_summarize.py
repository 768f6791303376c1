"""Summaries: description first, teaser rule, furniture removal, whole sentences."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.summarize import is_teaser, summarize, trim_teaser
from bot.text.utf16 import utf16_len
from tests.text.gold_corpus import sentences_dir

TITLE = "Parliament adopts the new media law"
LONG_DESCRIPTION = (
    "<p>The parliament adopted the media law on Tuesday after a heated debate. "
    "The opposition walked out of the session.</p>"
)
BODY = (
    f"{TITLE}\n"
    "Tbilisi, 5 May\n"
    "Lawmakers voted 84 to 30 in favour of the bill. Protesters gathered outside.\n"
    "What happens next\n"
    "The president has two weeks to sign or veto the law."
)


def test_description_comes_first() -> None:
    assert summarize(LONG_DESCRIPTION, BODY, "en", title=TITLE) == (
        "The parliament adopted the media law on Tuesday after a heated debate. "
        "The opposition walked out of the session."
    )


def test_title_repeated_as_first_sentence_is_skipped() -> None:
    description = f"<p>{TITLE}.</p>{LONG_DESCRIPTION}"
    assert summarize(description, None, "en", title=TITLE).startswith("The parliament adopted")


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "<p>Short teaser.</p>",
        f"<p>{TITLE}</p>",
        f"<p>{TITLE.upper()}!</p>",
        "<p>   </p>",
    ],
)
def test_missing_or_teaser_description_uses_the_body_lead(description: str | None) -> None:
    # The title line, the dateline and the heading are skipped.
    assert summarize(description, BODY, "en", title=TITLE) == (
        "Lawmakers voted 84 to 30 in favour of the bill. Protesters gathered outside. "
        "The president has two weeks to sign or veto the law."
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "The parliament adopted the media law on Tuesday after a heated debate and [&hellip;]",
            "en",
        ),
        ("The parliament adopted the media law on Tuesday after a heated debate and...", "en"),
        ("The parliament adopted the media law on Tuesday. After a heated debate… Read more", "en"),
        (f"The parliament adopted the media law on Tuesday. Continue reading {TITLE} →", "en"),
        ("Парламент принял закон о СМИ во вторник после жарких дебатов. Читать далее", "ru"),
        ("Парламент принял закон о СМИ во вторник после жарких дебатов… Подробнее »", "ru"),
        ("პარლამენტმა სამშაბათს მედიის შესახებ კანონი მიიღო ცხარე დებატების შემდეგ. ვრცლად", "ka"),
        ("Խորհրդարանը երեքշաբթի ընդունեց լրատվամիջոցների մասին օրենքը: Կարդալ ավելին", "hy"),
        (
            "Parlament çərşənbə axşamı qızğın müzakirələrdən sonra media qanununu qəbul etdi."
            " Ətraflı",
            "az",
        ),
    ],
)
def test_teaser_endings_in_five_languages(text: str, lang: str) -> None:
    plain = text.replace("&hellip;", "…")
    assert is_teaser(plain, TITLE)
    trimmed = trim_teaser(plain, TITLE)
    assert len(trimmed) < len(plain)
    assert not trimmed.endswith(("…", "...", "]", "»", "→"))


@pytest.mark.parametrize(
    "text",
    [
        "The parliament adopted the media law on Tuesday after a heated debate, he wants more.",
        "The committee asked members to read more carefully before they vote on the bill.",
        "Парламент принял закон о СМИ во вторник после жарких дебатов; подробнее — завтра.",
    ],
)
def test_ordinary_endings_are_not_teasers(text: str) -> None:
    assert not is_teaser(text, TITLE)
    assert trim_teaser(text, TITLE) == text


def test_armenian_colon_is_a_full_stop_not_a_teaser() -> None:
    text = "Խորհրդարանը երեքշաբթի ընդունեց լրատվամիջոցների մասին օրենքը: Ընդդիմությունը լքեց նիստը:"
    assert not is_teaser(text, lang="hy")
    assert is_teaser(text, lang="en")  # elsewhere a final colon leaves the sentence open
    assert summarize(f"<p>{text}</p>", None, "hy") == text


def test_trimmed_teaser_drops_the_cut_sentence() -> None:
    description = (
        "<p>The parliament adopted the media law on Tuesday after a heated debate. "
        "The opposition said that the law would [&hellip;]</p>"
    )
    assert summarize(description, None, "en", title=TITLE) == (
        "The parliament adopted the media law on Tuesday after a heated debate."
    )


def test_short_remainder_of_a_teaser_falls_back_to_the_body() -> None:
    description = "<p>Lawmakers met. The opposition said that the law would [&hellip;]</p>"
    assert summarize(description, BODY, "en", title=TITLE).startswith("Lawmakers voted 84")
    # Without a body the complete sentence is still worth posting.
    assert summarize(description, None, "en", title=TITLE) == "Lawmakers met."


def test_a_teaser_fragment_alone_is_never_posted() -> None:
    description = "<p>The opposition said on Tuesday that the new law would [&hellip;]</p>"
    assert summarize(description, None, "en") == ""
    assert summarize(description, BODY, "en", title=TITLE).startswith("Lawmakers voted 84")


@pytest.mark.parametrize(
    ("description", "lang"),
    [
        ("<p>Read more</p>", "en"),
        (f"<p>{TITLE}</p>", "en"),
        ("<p>Photo: Reuters</p>", "en"),
        ("<p>Читайте также: другая статья</p>", "ru"),
        ("<p>x […]</p>", "en"),
    ],
)
def test_nothing_usable_gives_empty(description: str, lang: str) -> None:
    assert summarize(description, None, lang, title=TITLE) == ""
    assert summarize(description, "", lang, title=TITLE) == ""


@pytest.mark.parametrize(
    ("lang", "content", "furniture"),
    [
        (
            "en",
            "The parliament adopted the media law on Tuesday after a long debate.",
            [
                "Read also: Opposition plans protest",
                "By John Smith",
                "Photo: Reuters",
                "Support us on Patreon.",
            ],
        ),
        (
            "ru",
            "Парламент Грузии принял закон о СМИ во вторник после долгих дебатов.",
            [
                "Читайте также: Оппозиция готовит протест",
                "Фото: Reuters",
                "Автор: Иван Петров",
                "Поддержите независимую журналистику.",
            ],
        ),
        (
            "ka",
            "საქართველოს პარლამენტმა სამშაბათს მედიის შესახებ კანონი მიიღო"
            " ხანგრძლივი დებატების შემდეგ.",
            ["ასევე წაიკითხეთ: ოპოზიცია პროტესტს გეგმავს", "ფოტო: Reuters", "მხარი დაგვიჭირეთ."],
        ),
        (
            "hy",
            "Հայաստանի խորհրդարանը երեքշաբթի ընդունեց լրատվամիջոցների մասին օրենքը"
            " երկար բանավեճից հետո:",
            [
                "Կարդացեք նաև՝ Ընդդիմությունը բողոք է ծրագրում",
                "Լուսանկարը՝ Reuters",
                "Աջակցեք մեզ:",
            ],
        ),
        (
            "az",
            "Azərbaycan parlamenti uzun müzakirələrdən sonra çərşənbə axşamı media qanununu"
            " qəbul etdi.",
            [
                "Həmçinin oxuyun: Müxalifət etiraz planlaşdırır",
                "Foto: Reuters",
                "Bizi dəstəkləyin.",
            ],
        ),
    ],
)
def test_furniture_is_removed(lang: str, content: str, furniture: list[str]) -> None:
    description = "".join(f"<p>{line}</p>" for line in [furniture[0], content, *furniture[1:]])
    assert summarize(description, None, lang) == content
    body = "\n".join([*furniture, content])
    assert summarize(None, body, lang) == content


def test_byline_rule_keeps_sentences_that_start_with_by() -> None:
    content = "By 2030, the government plans to double the budget of the ministry."
    description = f"<p>{content} By John Smith</p>"
    assert summarize(description, None, "en") == content


def test_whole_sentences_within_the_limit() -> None:
    body = "First sentence is here. Second sentence is here. Third sentence is here."
    assert summarize(None, body, "en", limit=50) == (
        "First sentence is here. Second sentence is here."
    )
    assert summarize(None, body, "en", limit=47) == "First sentence is here."
    assert summarize(None, body, "en", limit=0) == ""


def test_limit_counts_utf16_units() -> None:
    body = "Emoji 😀😀😀 are here. Next one."
    assert utf16_len("Emoji 😀😀😀 are here.") == 22
    assert summarize(None, body, "en", limit=22) == "Emoji 😀😀😀 are here."
    assert summarize(None, body, "en", limit=31) == "Emoji 😀😀😀 are here."
    assert summarize(None, body, "en", limit=32) == "Emoji 😀😀😀 are here. Next one."


def test_only_an_overlong_first_sentence_is_cut_at_a_word() -> None:
    sentence = "This opening sentence goes on and on " * 10 + "until it ends."
    result = summarize(None, sentence + " Short one.", "en", limit=100)
    assert result.endswith("…")
    assert utf16_len(result) <= 100
    assert sentence.startswith(result[:-1])
    assert sentence[len(result) - 1] == " "  # the cut fell between words


def test_overlong_word_is_cut_hard_but_within_the_limit() -> None:
    result = summarize(None, "x" * 5000 + ".", "en", limit=100)
    assert result == "x" * 99 + "…"


# Words end in "q" so that none is an abbreviation (after which a period is no boundary).
_WORDS = st.text(alphabet="abcdefghijklmnoprstuvwxyzабвгдეაბგ😀", min_size=1, max_size=12).map(
    lambda word: word + "q"
)


@st.composite
def _sentences(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(min_value=1, max_value=8))
    sentences = []
    for _ in range(count):
        words = draw(st.lists(_WORDS, min_size=1, max_size=15))
        end = draw(st.sampled_from(".!?"))
        sentences.append(("W" + " ".join(words)) + end)
    return sentences


@settings(max_examples=200, deadline=None)
@given(_sentences(), st.integers(min_value=1, max_value=400), st.booleans())
def test_summary_never_ends_mid_sentence_and_fits(
    sentences: list[str], limit: int, as_description: bool
) -> None:
    text = " ".join(sentences)
    description = f"<p>{text}</p>" if as_description else None
    result = summarize(description, text, "en", limit=limit)
    assert utf16_len(result) <= limit
    if result.endswith("…"):
        assert utf16_len(sentences[0]) > limit
        assert sentences[0].startswith(result[:-1])
    elif result:
        prefixes = {" ".join(sentences[:count]) for count in range(1, len(sentences) + 1)}
        assert result in prefixes


def test_twenty_kilobyte_article_is_fast() -> None:
    corpus = sentences_dir() / "ntrex" / "ru.jsonl"
    if corpus.is_file():
        with corpus.open(encoding="utf-8") as handle:
            body = "\n".join(json.loads(line)["text"] for line in handle)[:20_000]
    else:
        body = ("Парламент принял закон после дебатов. " * 600)[:20_000]
    description = "<p>" + body.replace("\n", "</p><p>") + "</p>"
    for html, text in ((None, body), ("<p>Teaser […]</p>", body), (description, None)):
        best = min(_timed(html, text) for _ in range(5))
        assert best < 0.025, f"{best * 1000:.2f} ms"  # ~1.5 ms idle; runaway costs far more


def _timed(description: str | None, body: str | None) -> float:
    started = time.perf_counter()
    summary = summarize(description, body, "ru")
    elapsed = time.perf_counter() - started
    assert summary
    return elapsed


_HOSTILE = [
    "a" + " " * 5000 + "b",
    "." * 5000,
    "[…]" * 2000,
    ")" * 5000,
    "Read more " * 2000,
    "x" * 5000,
    "→ " * 3000,
    " »" * 3000,
    "<p>" * 3000 + "text",
]


@pytest.mark.parametrize("text", _HOSTILE, ids=range(len(_HOSTILE)))
def test_hostile_input_is_fast(text: str) -> None:
    started = time.perf_counter()
    for lang in ("en", "hy"):
        result = summarize(text, text, lang, limit=300, title=text[:100])
        assert utf16_len(result) <= 300
        is_teaser(text, text[:50])
    assert time.perf_counter() - started < 1.0


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.none(), st.text(max_size=400)),
    st.one_of(st.none(), st.text(max_size=400)),
    st.sampled_from(["en", "ru", "ka", "hy", "az"]),
    st.integers(min_value=-5, max_value=300),
    st.text(max_size=40),
)
def test_any_input_gives_a_fitting_summary(
    description: str | None, body: str | None, lang: str, limit: int, title: str
) -> None:
    result = summarize(description, body, lang, limit=limit, title=title)
    assert utf16_len(result) <= max(limit, 0)
    assert result == result.strip()
