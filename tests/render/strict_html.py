"""A strict validator for the Telegram HTML this bot emits, used by the tests.

Stricter than Telegram itself: raw ``<``, ``>`` and ``&`` are refused everywhere outside
tags and the four named entities (plus numeric ones), only Bot API tags and attributes are
accepted, nesting must balance, links may not nest and must be http(s) or tg:. Anything that
passes here is accepted by Telegram's parser.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.text.utf16 import utf16_len

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}

_TAG = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ATTR = re.compile(r"\s+([a-z-]+)(?:=\"([^\"<>]*)\")?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_SPECIAL = re.compile(r"[<>&]")


class InvalidHTML(ValueError):
    """The text would be refused by Telegram or is not what the bot should emit."""


@dataclass(frozen=True)
class Parsed:
    plain: str
    entities: int

    @property
    def utf16_length(self) -> int:
        return utf16_len(self.plain)


def _check_entity(entity: str) -> None:
    if entity.startswith("&#"):
        code = int(entity[3:-1], 16) if entity[2] in "xX" else int(entity[2:-1])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise InvalidHTML(f"bad numeric entity {entity}")


def _check_text(text: str, where: str) -> None:
    """Text between tags (or an attribute value): every ``&`` starts an entity, no ``<``/``>``."""
    pos = 0
    while (match := _SPECIAL.search(text, pos)) is not None:
        if match.group() != "&":
            raise InvalidHTML(f"raw {match.group()!r} in {where} at {match.start()}")
        entity = _ENTITY.match(text, match.start())
        if entity is None:
            raise InvalidHTML(f"raw '&' in {where} at {match.start()}")
        _check_entity(entity.group())
        pos = entity.end()
    for ch in text:
        if (ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) <= 0xDFFF:
            raise InvalidHTML(f"control or surrogate character {ord(ch):#x} in {where}")


def _check_attributes(name: str, raw: str) -> None:
    allowed = ALLOWED_ATTRIBUTES[name]
    seen: dict[str, str | None] = {}
    for attr, value in _ATTR.findall(raw):
        if attr not in allowed or attr in seen:
            raise InvalidHTML(f"attribute {attr!r} not allowed on <{name}>")
        _check_text(value, f"attribute {attr}")
        seen[attr] = html.unescape(value)
    if name == "a":
        href = seen.get("href") or ""
        if not re.match(r"(https?://[^\s/]|tg://)", href, re.IGNORECASE):
            raise InvalidHTML(f"link target {href!r} is not http(s) or tg")
    if name == "span" and seen.get("class") != "tg-spoiler":
        raise InvalidHTML('<span> needs class="tg-spoiler"')


def _open(stack: list[str], name: str, attributes: str) -> None:
    if name not in ALLOWED_ATTRIBUTES:
        raise InvalidHTML(f"tag <{name}> is not supported by Telegram")
    _check_attributes(name, attributes)
    if name == "a" and "a" in stack:
        raise InvalidHTML("nested links")
    if stack and stack[-1] in ("pre", "code") and not (stack[-1] == "pre" and name == "code"):
        raise InvalidHTML(f"<{name}> inside <{stack[-1]}>")
    stack.append(name)


def _close(stack: list[str], name: str, attributes: str) -> None:
    if attributes.strip():
        raise InvalidHTML(f"closing tag </{name}> with attributes")
    if not stack or stack[-1] != name:
        raise InvalidHTML(f"unbalanced </{name}> (open: {stack})")
    stack.pop()


def parse_strict(text: str) -> Parsed:
    """Validate ``text``; return its plain text and the number of entities it makes."""
    stack: list[str] = []
    plain: list[str] = []
    entities = 0
    pos = 0
    for match in _TAG.finditer(text):
        between = text[pos : match.start()]
        _check_text(between, "text")
        plain.append(html.unescape(between))
        closing, name, attributes = match.groups()
        if closing:
            _close(stack, name, attributes)
        else:
            _open(stack, name, attributes)
            entities += 1
        pos = match.end()
    tail = text[pos:]
    _check_text(tail, "text")
    plain.append(html.unescape(tail))
    if stack:
        raise InvalidHTML(f"unclosed tags: {stack}")
    result = "".join(plain)
    if not result.strip():
        raise InvalidHTML("message is empty after parsing")
    return Parsed(plain=result, entities=entities)
