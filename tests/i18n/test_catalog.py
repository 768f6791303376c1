"""The shipped translations: complete, consistent with English, plural rules as CLDR says."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import Translator
from bot.i18n.translator import BABEL_LOCALES, LOCALES_DIR, placeholders

LANGUAGES = ("en", "ru", "ka", "hy", "az")
EXPECTED_PLURALS = {"en": 2, "ru": 3, "ka": 2, "hy": 2, "az": 2}


def _catalog(lang: str) -> Catalog:
    with (LOCALES_DIR / lang / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang, abort_invalid=True)


def _entries(lang: str) -> dict[str, str | tuple[str, ...]]:
    entries: dict[str, str | tuple[str, ...]] = {}
    for message in _catalog(lang):
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key:
            value = message.string or ""
            entries[key] = value if isinstance(value, str) else tuple(value)
    return entries


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load(LANGUAGES, "en")


def test_every_language_loads_without_problems(translator: Translator) -> None:
    assert translator.problems == ()
    assert translator.languages == LANGUAGES


def test_locale_directories_are_exactly_the_supported_languages() -> None:
    assert sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir()) == sorted(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_key_exists_in_every_language(lang: str) -> None:
    english, other = _entries("en"), _entries(lang)
    assert sorted(other) == sorted(english)
    for key, value in other.items():
        assert value, f"{lang}: {key} is empty"
        assert type(value) is type(english[key]), f"{lang}: {key} plural shape differs"


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_placeholders_match_english(lang: str) -> None:
    english, other = _entries("en"), _entries(lang)
    for key, value in other.items():
        reference = english[key]
        expected = placeholders(reference if isinstance(reference, str) else reference[0])
        forms = (value,) if isinstance(value, str) else value
        for form in forms:
            assert placeholders(form) == expected, f"{lang}: {key}: {form!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_fuzzy_entries_and_the_right_language(lang: str) -> None:
    catalog = _catalog(lang)
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert catalog.locale is not None
    assert str(catalog.locale) == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_header_agrees_with_cldr(lang: str) -> None:
    """Each gettext plural index must stand for exactly one CLDR category for integers,
    and the header must declare exactly as many forms as the integers use."""
    catalog = _catalog(lang)
    pick = gettext.c2py(catalog.plural_expr)
    rule = Locale.parse(BABEL_LOCALES.get(lang, lang)).plural_form
    index_to_category: dict[int, set[str]] = {}
    category_to_index: dict[str, set[int]] = {}
    for n in range(0, 1201):
        index, category = pick(n), rule(n)
        index_to_category.setdefault(index, set()).add(category)
        category_to_index.setdefault(category, set()).add(index)
    assert all(len(c) == 1 for c in index_to_category.values()), index_to_category
    assert all(len(i) == 1 for i in category_to_index.values()), category_to_index
    assert sorted(index_to_category) == list(range(catalog.num_plurals))
    assert catalog.num_plurals == EXPECTED_PLURALS[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_as_many_forms_as_the_header(lang: str) -> None:
    catalog = _catalog(lang)
    plural_entries = {k: v for k, v in _entries(lang).items() if isinstance(v, tuple)}
    assert plural_entries
    for key, forms in plural_entries.items():
        assert len(forms) == catalog.num_plurals, key


def test_po_files_are_plain_utf8_text() -> None:
    for lang in LANGUAGES:
        raw = Path(LOCALES_DIR / lang / "messages.po").read_bytes()
        raw.decode("utf-8")
        assert b"\r" not in raw
        assert b"charset=utf-8" in raw
