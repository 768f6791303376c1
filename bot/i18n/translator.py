"""UI strings in every supported language, read from gettext ``.po`` files at start.

``.po`` is the format translators and their tools (Poedit, Weblate, Babel) already know, and
reading it directly with Babel (no compiled ``.mo``) means a fresh clone runs as is. Message
ids are stable keys grouped by prefix (``start.greeting``); English lives in ``en``'s msgstr
like every other language. Plural forms follow each file's ``Plural-Forms`` header, which the
tests check against CLDR.

Strings are Telegram HTML. Parameters are escaped on the way in unless wrapped in
:class:`SafeHTML`, so a region or chat title can never inject markup. A translation that is
missing, fuzzy or inconsistent with the default language (other placeholders, other plural
shape) is set aside at load time and the default language's text is used instead; the
reasons are kept in :attr:`Translator.problems` for ``newsbot check`` and the tests.

Adding a language: ``pybabel init -l <lang>`` (or copy ``en/messages.po``) to get the right
``Language`` and ``Plural-Forms`` headers in ``locales/<lang>/messages.po``, translate every
entry, and list the code in the catalog's ``languages``; ``tests/i18n`` then says what is
missing or inconsistent. Add a Babel locale to ``BABEL_LOCALES`` when the bare code is not
the right one for dates and numbers.
"""

from __future__ import annotations

import gettext as gettext_module
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal

from bot.outbox.clean import escape_attr, visible_text

__all__ = [
    "COMMANDS",
    "LOCALES_DIR",
    "SafeHTML",
    "TranslationError",
    "Translator",
]

LOCALES_DIR = Path(__file__).parent / "locales"
PO_FILE = "messages.po"
# The commands of the private-chat menu, in menu order (descriptions: ``commands.<name>``).
COMMANDS = ("start", "help", "mostread", "search", "donate", "settings", "channels", "stop")
# Babel locales for dates and numbers where the bare language code is ambiguous or poorer.
BABEL_LOCALES = {"ka": "ka_GE", "hy": "hy_AM", "az": "az_Latn_AZ"}
_FORMATTER = string.Formatter()
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class TranslationError(Exception):
    """The translation files cannot be used at all (missing, unreadable, bad header)."""


class SafeHTML(str):
    """Text that already is valid Telegram HTML (such as another translated string):
    inserted into a message as is instead of being escaped."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class _Language:
    """One language's usable messages and the rules to pick its plural forms."""

    code: str
    locale: Locale
    plural: Callable[[int], int]
    num_plurals: int
    singles: dict[str, str] = field(default_factory=dict)
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields of a template; raises ValueError for anything but plain names
    (no attribute access, indexing, conversions or format specs, which translations have
    no business using)."""
    names: set[str] = set()
    for _literal, name, spec, conversion in _FORMATTER.parse(template):
        if name is None:
            continue
        if not _PLAIN_NAME.match(name) or spec or conversion:
            raise ValueError(f"unsupported placeholder {{{name}}}")
        names.add(name)
    return frozenset(names)


def _babel_locale(code: str) -> Locale:
    try:
        return Locale.parse(BABEL_LOCALES.get(code, code))
    except (ValueError, UnknownLocaleError) as exc:
        raise TranslationError(f"{code}: no locale data for this language") from exc


def _read_catalog(directory: Path, code: str) -> Catalog:
    path = directory / code / PO_FILE
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=code, abort_invalid=True)
    except (OSError, PoFileError, ValueError) as exc:
        raise TranslationError(f"{code}: cannot read {path}: {exc}") from exc


def _plural_rule(catalog: Catalog, code: str) -> Callable[[int], int]:
    try:
        return gettext_module.c2py(catalog.plural_expr)
    except (ValueError, SyntaxError) as exc:
        raise TranslationError(f"{code}: bad Plural-Forms expression") from exc


def _load_language(directory: Path, code: str) -> tuple[_Language, list[str]]:
    """Read one ``.po`` file; entries that cannot be used are reported, not loaded."""
    catalog = _read_catalog(directory, code)
    language = _Language(
        code=code,
        locale=_babel_locale(code),
        plural=_plural_rule(catalog, code),
        num_plurals=catalog.num_plurals,
    )
    problems: list[str] = []
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        translation = message.string or ""
        if not key:
            continue  # the header
        if message.fuzzy:
            problems.append(f"{code}: {key}: marked fuzzy")
        elif not isinstance(translation, str):
            _add_plural(language, key, tuple(translation), problems)
        elif translation:
            _add_single(language, key, translation, problems)
        else:
            problems.append(f"{code}: {key}: not translated")
    return language, problems


def _add_single(language: _Language, key: str, text: str, problems: list[str]) -> None:
    try:
        placeholders(text)
    except ValueError as exc:
        problems.append(f"{language.code}: {key}: {exc}")
        return
    language.singles[key] = text


def _add_plural(language: _Language, key: str, forms: tuple[str, ...], problems: list[str]) -> None:
    if len(forms) != language.num_plurals or not all(forms):
        problems.append(
            f"{language.code}: {key}: needs {language.num_plurals} non-empty plural forms"
        )
        return
    try:
        names = {placeholders(form) for form in forms}
    except ValueError as exc:
        problems.append(f"{language.code}: {key}: {exc}")
        return
    if len(names) != 1:
        problems.append(f"{language.code}: {key}: plural forms use different placeholders")
        return
    language.plurals[key] = forms


def _reconcile(language: _Language, default: _Language) -> list[str]:
    """Set aside what disagrees with the default language, so the default text is used."""
    problems: list[str] = []
    for key in list(language.singles):
        if key in default.plurals or key not in default.singles:
            problems.append(f"{language.code}: {key}: not a message of {default.code}")
            del language.singles[key]
        elif placeholders(language.singles[key]) != placeholders(default.singles[key]):
            problems.append(f"{language.code}: {key}: placeholders differ from {default.code}")
            del language.singles[key]
    for key in list(language.plurals):
        if key not in default.plurals:
            problems.append(f"{language.code}: {key}: not a plural message of {default.code}")
            del language.plurals[key]
        elif placeholders(language.plurals[key][0]) != placeholders(default.plurals[key][0]):
            problems.append(f"{language.code}: {key}: placeholders differ from {default.code}")
            del language.plurals[key]
    missing = (set(default.singles) | set(default.plurals)) - (
        set(language.singles) | set(language.plurals)
    )
    problems.extend(f"{language.code}: {key}: missing" for key in sorted(missing))
    return problems


class Translator:
    """Looks up, pluralises and formats UI strings; built once at start, then read-only."""

    def __init__(
        self, languages: Mapping[str, _Language], default: str, problems: Iterable[str]
    ) -> None:
        self._languages = dict(languages)
        self._default = default
        self._problems = tuple(problems)

    @classmethod
    def load(
        cls, languages: Sequence[str], default: str, *, directory: Path = LOCALES_DIR
    ) -> Translator:
        """Read ``<directory>/<lang>/messages.po`` for each language.

        Raises :class:`TranslationError` when a file is missing or unreadable or the default
        language is not among ``languages``; smaller faults end up in :attr:`problems`.
        """
        if default not in languages:
            raise TranslationError(f"default language {default!r} is not in {list(languages)}")
        loaded: dict[str, _Language] = {}
        problems: list[str] = []
        for code in dict.fromkeys(languages):
            loaded[code], found = _load_language(directory, code)
            problems.extend(found)
        for code, language in loaded.items():
            if code != default:
                problems.extend(_reconcile(language, loaded[default]))
        return cls(loaded, default, problems)

    @staticmethod
    def available(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
        """Languages that have a translation file, so callers can load only those (a
        content edition without UI strings gets the default language's UI)."""
        return tuple(sorted(p.parent.name for p in directory.glob(f"*/{PO_FILE}")))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._languages)

    @property
    def default(self) -> str:
        return self._default

    @property
    def problems(self) -> tuple[str, ...]:
        """Translations set aside at load time (the default language's text is used)."""
        return self._problems

    def keys(self) -> frozenset[str]:
        """Every message key (those of the default language)."""
        base = self._languages[self._default]
        return frozenset(base.singles) | frozenset(base.plurals)

    def is_plural(self, key: str) -> bool:
        return key in self._languages[self._default].plurals

    def params_of(self, key: str) -> frozenset[str]:
        """The placeholder names a message takes (the same in every language)."""
        base = self._languages[self._default]
        template = base.singles.get(key) or base.plurals.get(key, ("",))[0]
        if not template:
            raise KeyError(f"unknown message key {key!r}")
        return placeholders(template)

    def pick_language(self, language_code: str | None) -> str:
        """A supported language for Telegram's ``language_code`` ("ru", "en-US", "hy-AM")."""
        if not language_code:
            return self._default
        primary = re.split(r"[-_]", language_code.strip().lower(), maxsplit=1)[0]
        return primary if primary in self._languages else self._default

    def gettext(self, lang: str | None, key: str, **params: object) -> str:
        """The message ``key`` in ``lang`` (or the default language) with ``params`` filled in.

        Raises KeyError for an unknown key or a missing parameter: both are bugs in the
        calling code, not in the translations.
        """
        language = self._language(lang)
        template = language.singles.get(key)
        if template is None:
            language = self._languages[self._default]
            template = language.singles.get(key)
        if template is None:
            raise KeyError(f"unknown message key {key!r}")
        return self._format(language, template, params)

    def ngettext(self, lang: str | None, key: str, n: int, **params: object) -> str:
        """The plural message ``key`` in the form for ``n``; ``{n}`` is available to it."""
        language = self._language(lang)
        forms = language.plurals.get(key)
        if forms is None:
            language = self._languages[self._default]
            forms = language.plurals.get(key)
        if forms is None:
            raise KeyError(f"unknown plural message key {key!r}")
        index = language.plural(abs(n))
        template = forms[index] if 0 <= index < len(forms) else forms[-1]
        return self._format(language, template, {"n": n, **params})

    def plain(self, lang: str | None, key: str, n: int | None = None, **params: object) -> str:
        """The message as plain text, for places that take no HTML: button labels, command
        descriptions, invoice titles."""
        if n is None:
            return visible_text(self.gettext(lang, key, **params))
        return visible_text(self.ngettext(lang, key, n, **params))

    def commands(self, lang: str | None) -> list[tuple[str, str]]:
        """``(command, description)`` pairs for ``setMyCommands`` in this language."""
        return [(name, self.plain(lang, f"commands.{name}")) for name in COMMANDS]

    def language_name(self, lang: str) -> str:
        """The language's name in itself ("Русский", "ქართული"), for the language picker.

        It is a message of that language's own file: CLDR's names are lower-case and
        capitalising them by rule would be wrong for Georgian, which has no capitals.
        """
        return self.plain(lang, "language.name")

    def format_date(self, lang: str | None, value: date | datetime, fmt: str = "long") -> str:
        """A date as readers of ``lang`` write it; a datetime must already be in the
        reader's time zone (its own date is used, it is not converted)."""
        day = value.date() if isinstance(value, datetime) else value
        return babel_format_date(day, fmt, locale=self._language(lang).locale)

    def format_time(self, lang: str | None, value: time, fmt: str = "short") -> str:
        """A wall-clock time (digest time, quiet hours) as readers of ``lang`` write it."""
        return babel_format_time(
            value.replace(tzinfo=None), fmt, locale=self._language(lang).locale
        )

    def _language(self, lang: str | None) -> _Language:
        if lang is None:
            return self._languages[self._default]
        return self._languages.get(lang) or self._languages[self.pick_language(lang)]

    def _format(self, language: _Language, template: str, params: Mapping[str, object]) -> str:
        values = {name: self._param(language, value) for name, value in params.items()}
        return template.format_map(values)

    @staticmethod
    def _param(language: _Language, value: object) -> str:
        """A parameter as safe HTML: numbers and dates in the language's conventions."""
        if isinstance(value, SafeHTML):
            return str(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return format_decimal(value, locale=language.locale)
        if isinstance(value, date):
            day = value.date() if isinstance(value, datetime) else value
            return escape_attr(babel_format_date(day, "long", locale=language.locale))
        return escape_attr(str(value))
