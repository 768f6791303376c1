"""Region and topic names are inserted where no language needs to inflect them.

Russian, Georgian, Armenian and Azerbaijani decline nouns: "Вы подписались на Грузия"
(a template around a name) reads wrong. Every message that carries region or topic names
puts them after a colon (Armenian "՝"), or alone on their line, where the nominative is
right in all five languages: "Подписка оформлена: Грузия · Русский".
"""

from __future__ import annotations

import re

import pytest

from bot.i18n import Translator

LANGUAGES = ("en", "ru", "ka", "hy", "az")
NAMES = ("edition", "regions", "region", "topics", "topic")
TR = Translator.load(LANGUAGES, "en")
KEYS = sorted(k for k in TR.keys() if TR.params_of(k) & set(NAMES))  # noqa: SIM118


def _texts(lang: str, key: str) -> list[str]:
    if TR.is_plural(key):
        params = {p: f"{{{p}}}" for p in TR.params_of(key) if p != "n"}
        return [TR.ngettext(lang, key, n, **params) for n in (1, 2, 5)]
    return [TR.gettext(lang, key, **{p: f"{{{p}}}" for p in TR.params_of(key)})]


def test_the_rule_covers_the_messages_with_names() -> None:
    assert "start.deeplink_subscribed" in KEYS and "settings.summary" in KEYS


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", KEYS)
def test_names_follow_a_colon_or_stand_alone(lang: str, key: str) -> None:
    for text in _texts(lang, key):
        for line in text.splitlines():
            plain = re.sub(r"<[^>]+>", "", line)
            for name in NAMES:
                at = plain.find(f"{{{name}}}")
                if at < 0:
                    continue
                before = plain[:at].rstrip()
                assert before == "" or before.endswith((":", "՝", "—")), (lang, key, line)
