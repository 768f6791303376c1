"""Every message, in every language and plural form, is something Telegram will accept."""

from __future__ import annotations

import importlib
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.i18n import COMMANDS, Translator
from bot.outbox.clean import visible_text
from bot.text.utf16 import utf16_len
from tests.render.strict_html import parse_strict

LANGUAGES = ("en", "ru", "ka", "hy", "az")
PLURAL_SAMPLES = (0, 1, 2, 5, 11, 21, 22, 1000)
TR = Translator.load(LANGUAGES, "en")
KEYS = sorted(TR.keys())
# Button labels, command descriptions and invoice fields take no HTML. ("errors.stale_button"
# is a message about a button, not a label.)
PLAIN_SUFFIXES = ("_button", ".button")
PLAIN_PREFIXES = ("commands.", "language.", "donate.invoice_")


def _is_plain(key: str) -> bool:
    return (key.endswith(PLAIN_SUFFIXES) or key.startswith(PLAIN_PREFIXES)) and not key.startswith(
        "errors."
    )


def _placeholder_names(key: str) -> set[str]:
    return set(TR.params_of(key))


def _rendered(lang: str, key: str, **params: object) -> Iterator[str]:
    if TR.is_plural(key):
        for n in PLURAL_SAMPLES:
            counted = {k: v for k, v in params.items() if k not in ("n", "amount")}
            yield TR.ngettext(lang, key, n, **counted, amount=n)
    else:
        yield TR.gettext(lang, key, **params)


def _bot_api_parse() -> Callable[[str], Any] | None:
    try:
        module = importlib.import_module("tests.fakes.html_rules")
    except ImportError:
        return None
    parse: Callable[[str], Any] = module.parse_telegram_html
    return parse


@pytest.mark.parametrize(("lang", "key"), list(itertools.product(LANGUAGES, KEYS)))
def test_every_message_is_valid_telegram_html_with_hostile_params(lang: str, key: str) -> None:
    params = {name: f'<{name}> & "co"' for name in _placeholder_names(key)}
    for text in _rendered(lang, key, **params):
        parsed = parse_strict(text)
        assert utf16_len(parsed.plain) <= 4096
        for name in params:
            if name not in ("n", "amount"):
                assert f"<{name}>" in parsed.plain, f"{name} lost or not escaped"


def test_every_message_passes_the_bot_api_parser() -> None:
    rules = pytest.importorskip("tests.fakes.html_rules")
    for lang, key in itertools.product(LANGUAGES, KEYS):
        params = {name: f'<{name}> & "co"' for name in _placeholder_names(key)}
        for text in _rendered(lang, key, **params):
            plain, _entities = rules.parse_telegram_html(text)
            assert plain.strip()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plain_text_strings_have_no_markup(lang: str) -> None:
    plain_keys = [k for k in KEYS if _is_plain(k)]
    assert len(plain_keys) > 20
    for key in plain_keys:
        for text in _rendered(lang, key, outlet="JAMnews", chat="@news", language="Русский"):
            assert not re.search(r"[<>&]", text), f"{lang}: {key}: {text!r}"
            assert utf16_len(text) <= 64 or key.startswith(("commands.", "donate.invoice_"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_command_menu(lang: str) -> None:
    commands = TR.commands(lang)
    assert [name for name, _ in commands] == list(COMMANDS)
    for name, description in commands:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 1 <= len(description) <= 256
        assert description == description.strip()
    assert len({d for _, d in commands}) == len(commands), "two commands share a description"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_invoice_fields_fit_telegram_limits(lang: str) -> None:
    title = TR.plain(lang, "donate.invoice_title", outlet="JAMnews")
    description = TR.plain(lang, "donate.invoice_description", outlet="JAMnews")
    assert 1 <= len(title) <= 32
    assert 1 <= len(description) <= 255


@pytest.mark.parametrize("lang", LANGUAGES)
def test_greeting_names_the_button_it_asks_to_tap(lang: str) -> None:
    button = TR.plain(lang, "start.choose_regions_button")
    greeting = TR.gettext(lang, "start.greeting", outlet="JAMnews")
    assert f"<b>{button}</b>" in greeting


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_lists_every_command(lang: str) -> None:
    text = visible_text(TR.gettext(lang, "help.text", outlet="JAMnews"))
    for name in COMMANDS:
        assert re.search(rf"^/{name} — ", text, re.MULTILINE), name


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_translations_are_not_english_copies(lang: str) -> None:
    same = [
        key
        for key in KEYS
        if not TR.is_plural(key)
        and TR.gettext(lang, key, **dict.fromkeys(_placeholder_names(key), "X"))
        == TR.gettext("en", key, **dict.fromkeys(_placeholder_names(key), "X"))
    ]
    assert set(same) <= {"digest.region_heading"}, same


def test_bot_api_parse_helper_is_consistent_with_the_strict_one() -> None:
    parse = _bot_api_parse()
    if parse is None:
        pytest.skip("tests.fakes.html_rules is not available")
    text = TR.ngettext("ru", "settings.summary", 3, regions="A & B", language="x", delivery="y",
                       quiet="z", appeals="w")  # fmt: skip
    plain, _entities = parse(text)
    assert plain == parse_strict(text).plain
