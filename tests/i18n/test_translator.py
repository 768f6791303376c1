"""Translator behaviour: lookup, fallback, escaping, plurals, languages, dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from bot.i18n import SafeHTML, TranslationError, Translator

LANGUAGES = ("en", "ru", "ka", "hy", "az")

HEADERS = {
    "en": "nplurals=2; plural=(n != 1);",
    "ru": (
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : "
        "n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    ),
}


@pytest.fixture(scope="module")
def tr() -> Translator:
    return Translator.load(LANGUAGES, "en")


def _write_po(root: Path, lang: str, body: str) -> None:
    folder = root / lang
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        'msgid ""\nmsgstr ""\n'
        f'"Language: {lang}\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Plural-Forms: {HEADERS[lang]}\\n"\n\n'
    )
    (folder / "messages.po").write_text(header + body, encoding="utf-8")


EN_BODY = """
msgid "a.hello"
msgstr "Hello, <b>{name}</b>!"

msgid "a.only_en"
msgstr "English only"

msgid "a.items"
msgid_plural "a.items"
msgstr[0] "{n} item"
msgstr[1] "{n} items"

msgid "a.mismatch"
msgstr "Hi {name}"

msgid "a.shape"
msgstr "Shape"
"""

RU_BODY = """
msgid "a.hello"
msgstr "Привет, <b>{name}</b>!"

msgid "a.items"
msgid_plural "a.items"
msgstr[0] "{n} штука"
msgstr[1] "{n} штуки"

msgid "a.mismatch"
msgstr "Привет, {nmae}"

msgid "a.shape"
msgid_plural "a.shape"
msgstr[0] "Форма"
msgstr[1] "Формы"
msgstr[2] "Форм"

#, fuzzy
msgid "a.only_en"
msgstr "Только английский"

msgid "a.extra"
msgstr "Лишнее"
"""


@pytest.fixture
def small(tmp_path: Path) -> Translator:
    _write_po(tmp_path, "en", EN_BODY)
    _write_po(tmp_path, "ru", RU_BODY)
    return Translator.load(["en", "ru"], "en", directory=tmp_path)


def test_faulty_translations_are_reported_and_fall_back(small: Translator) -> None:
    problems = "\n".join(small.problems)
    assert "ru: a.items: needs 3 non-empty plural forms" in problems
    assert "ru: a.mismatch: placeholders differ from en" in problems
    assert "ru: a.shape: not a plural message of en" in problems
    assert "ru: a.only_en: marked fuzzy" in problems
    assert "ru: a.extra: not a message of en" in problems
    assert "ru: a.only_en: missing" in problems
    assert small.gettext("ru", "a.hello", name="Вася") == "Привет, <b>Вася</b>!"
    assert small.gettext("ru", "a.mismatch", name="Вася") == "Hi Вася"
    assert small.gettext("ru", "a.only_en") == "English only"
    assert small.ngettext("ru", "a.items", 5) == "5 items"
    assert small.gettext("ru", "a.shape") == "Shape"


def test_unknown_language_uses_the_default(small: Translator) -> None:
    assert small.gettext(None, "a.hello", name="x") == "Hello, <b>x</b>!"
    assert small.gettext("de", "a.hello", name="x") == "Hello, <b>x</b>!"
    assert small.gettext("ru-RU", "a.hello", name="x") == "Привет, <b>x</b>!"


def test_unknown_key_and_missing_parameter_are_caller_bugs(small: Translator) -> None:
    with pytest.raises(KeyError, match=re.escape("a.nope")):
        small.gettext("en", "a.nope")
    with pytest.raises(KeyError, match=re.escape("a.hello")):
        small.ngettext("en", "a.hello", 1)
    with pytest.raises(KeyError, match="name"):
        small.gettext("en", "a.hello")


def test_load_errors(tmp_path: Path) -> None:
    _write_po(tmp_path, "en", EN_BODY)
    with pytest.raises(TranslationError, match="default language"):
        Translator.load(["en"], "ru", directory=tmp_path)
    with pytest.raises(TranslationError, match="ru: cannot read"):
        Translator.load(["en", "ru"], "en", directory=tmp_path)
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "messages.po").write_text('msgid "x"\nmsgstr "y"\nmsgid', encoding="utf-8")
    with pytest.raises(TranslationError, match="ru: cannot read"):
        Translator.load(["en", "ru"], "en", directory=tmp_path)


def test_parameters_are_escaped_unless_safe(tr: Translator) -> None:
    text = tr.gettext("en", "channels.connected", chat='<i>"Evil" & co</i>')
    assert text.startswith("<b>&lt;i&gt;&quot;Evil&quot; &amp; co&lt;/i&gt;</b> is connected.")
    inner = tr.gettext("en", "settings.quiet_range", start="22:00", end="07:00")
    summary = tr.ngettext(
        "en",
        "settings.summary",
        1,
        regions="Georgia",
        language="English",
        delivery="instantly",
        quiet=SafeHTML(f"<i>{inner}</i>"),
        appeals="shown",
    )
    assert "Quiet hours: <i>from 22:00 to 07:00</i>" in summary
    assert "1 region: Georgia" in summary


def test_control_characters_in_parameters_are_dropped(tr: Translator) -> None:
    assert tr.gettext("en", "channels.disconnected", chat="a\x00b\u202ec") == "abc is disconnected."


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "⭐ 0 звёзд"),
        (1, "⭐ 1 звезда"),
        (2, "⭐ 2 звезды"),
        (4, "⭐ 4 звезды"),
        (5, "⭐ 5 звёзд"),
        (11, "⭐ 11 звёзд"),
        (12, "⭐ 12 звёзд"),
        (21, "⭐ 21 звезда"),
        (22, "⭐ 22 звезды"),
        (25, "⭐ 25 звёзд"),
        (101, "⭐ 101 звезда"),
        (111, "⭐ 111 звёзд"),
    ],
)
def test_russian_plural_forms(tr: Translator, n: int, expected: str) -> None:
    assert tr.ngettext("ru", "donate.stars_button", n) == expected


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 1, "⭐ 1 Star"),
        ("en", 0, "⭐ 0 Stars"),
        ("en", 250, "⭐ 250 Stars"),
        ("en", 1000, "⭐ 1,000 Stars"),
        ("hy", 50, "⭐ 50 աստղ"),
        ("ka", 1, "⭐ 1 ვარსკვლავი"),
        ("az", 1000, "⭐ 1.000 ulduz"),
    ],
)
def test_plural_forms_and_number_format(tr: Translator, lang: str, n: int, expected: str) -> None:
    assert tr.plain(lang, "donate.stars_button", n) == expected


def test_plural_with_a_named_count(tr: Translator) -> None:
    text = tr.ngettext("ru", "donate.thanks", 5, amount=5, outlet="JAMnews")
    assert text.startswith("Спасибо за 5 звёзд в поддержку JAMnews!")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("RU", "ru"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("hy-AM", "hy"),
        ("ka", "ka"),
        ("az", "az"),
        ("az-Cyrl-AZ", "az"),
        ("pt-br", "en"),
        ("de", "en"),
        ("uk", "en"),
        ("x", "en"),
        (" ru ", "ru"),
        ("ru_RU", "ru"),
    ],
)
def test_pick_language(tr: Translator, code: str | None, expected: str) -> None:
    assert tr.pick_language(code) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "March 5, 2025"),
        ("ru", "5 марта 2025\u202fг."),
        ("ka", "5 მარტი, 2025"),
        ("hy", "2025 թ. մարտի 5"),
        ("az", "5 mart 2025"),
        (None, "March 5, 2025"),
    ],
)
def test_format_date(tr: Translator, lang: str | None, expected: str) -> None:
    assert tr.format_date(lang, date(2025, 3, 5)) == expected


def test_format_date_uses_the_datetimes_own_day(tr: Translator) -> None:
    late = datetime(2025, 3, 5, 23, 30, tzinfo=timezone(timedelta(hours=4)))
    assert tr.format_date("ru", late) == "5 марта 2025\u202fг."
    assert tr.format_date("ru", late.astimezone(UTC)) == "5 марта 2025\u202fг."
    assert tr.format_date("ru", late + timedelta(hours=1)) == "6 марта 2025\u202fг."


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "8:30 PM"), ("ru", "20:30"), ("ka", "20:30"), ("az", "20:30")]
)
def test_format_time(tr: Translator, lang: str, expected: str) -> None:
    assert tr.format_time(lang, time(20, 30)).replace("\u202f", " ") == expected


def test_date_parameters_are_formatted_for_the_reader(tr: Translator) -> None:
    text = tr.ngettext("hy", "digest.heading", 3, date=date(2025, 3, 5))
    assert text == "<b>Ձեր օրական ամփոփումը — 2025 թ. մարտի 5</b>\n3 նոր հոդված"


def test_language_names_are_in_their_own_language(tr: Translator) -> None:
    names = [tr.language_name(code) for code in LANGUAGES]
    assert names == ["English", "Русский", "ქართული", "Հայերեն", "Azərbaycanca"]


def test_commands_are_translated(tr: Translator) -> None:
    english = dict(tr.commands("en"))
    russian = dict(tr.commands("ru"))
    assert english["stop"] == "Unsubscribe"
    assert russian["stop"] == "Отписаться"
    assert dict(tr.commands("de")) == english


def test_params_of(tr: Translator) -> None:
    assert tr.params_of("channels.not_admin") == {"chat"}
    assert tr.params_of("donate.thanks") == {"amount", "outlet"}
    with pytest.raises(KeyError):
        tr.params_of("no.such")


def test_available_lists_languages_with_a_file(tmp_path: Path) -> None:
    assert Translator.available() == ("az", "en", "hy", "ka", "ru")
    _write_po(tmp_path, "ru", RU_BODY)
    (tmp_path / "de").mkdir()
    assert Translator.available(tmp_path) == ("ru",)
