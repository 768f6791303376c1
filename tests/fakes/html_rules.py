"""Telegram's HTML parse mode, re-implemented to check our messages before Telegram does.

Telegram rejects a whole message when its HTML does not parse, and it counts the 4096
(text) / 1024 (caption) limits on the *parsed* text in UTF-16 code units. The renderer's
tests and the fake Bot API server use :func:`parse_telegram_html` to catch both kinds of
mistakes locally, with the same error wording Telegram uses ("Unsupported start tag ...",
"Unmatched end tag ...").

It is deliberately a little stricter than Telegram where Telegram silently repairs or
ignores input, because each of those cases is a bug in our escaping or rendering:

- a ``&`` that does not start ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` or a numeric entity is
  an error (Telegram keeps it as text);
- entities nested against the Bot API rules (anything inside ``code``/``pre``, links inside
  links or code, a blockquote inside a blockquote) are an error (Telegram drops them).

Only a bare ``>`` is accepted, as Telegram does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text.utf16 import utf16_len

__all__ = [
    "TELEGRAM_CAPTION_LIMIT",
    "TELEGRAM_TEXT_LIMIT",
    "Entity",
    "TelegramHTMLError",
    "parse_telegram_html",
]

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([a-zA-Z][a-zA-Z0-9]{0,31}));")
_SPACE = " \t\r\n\f"

# Entity types that may not contain, or sit inside, one another (Bot API "nested entities").
_EXCLUSIVE = frozenset({"code", "pre", "text_link", "custom_emoji"})
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})


class TelegramHTMLError(ValueError):
    """The text is not valid Telegram HTML; the message starts with "Can't parse entities: "."""


@dataclass(frozen=True, slots=True)
class Entity:
    """A MessageEntity as Telegram would build it; offsets and lengths in UTF-16 units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


@dataclass(slots=True)
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    utf16_offset: int
    attribute: str | None


def parse_telegram_html(text: str) -> tuple[str, list[Entity]]:
    """Parse ``text`` as Telegram's HTML parse mode does; return plain text and entities.

    Raises:
        TelegramHTMLError: for anything Telegram would reject (and the stricter cases listed
            in the module docstring).
    """
    if _SPECIAL.search(text) is None:
        return text, []
    return _Parser(text).run()


class _Parser:
    """One pass over the source; state is the output so far and the stack of open tags."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16_offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def run(self) -> tuple[str, list[Entity]]:
        source = self.source
        while (match := _SPECIAL.search(source, self.pos)) is not None:
            self._emit(source[self.pos : match.start()])
            self.pos = match.start()
            if source[self.pos] == "&":
                self._entity()
            else:
                self._tag()
        self._emit(source[self.pos :])
        if self.stack:
            name = self.stack[-1].name
            raise _error(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e.offset, -e.length))
        return "".join(self.out), self.entities

    def _emit(self, chunk: str) -> None:
        if chunk:
            self.out.append(chunk)
            self.utf16_offset += utf16_len(chunk)

    def _at(self, pos: int | None = None) -> _At:
        return _At(self.source, self.pos if pos is None else pos)

    def _entity(self) -> None:
        match = _ENTITY.match(self.source, self.pos)
        if match is None:
            raise _error(f"Character '&' at {self._at()} does not start an entity; use &amp;")
        self._emit(_decode_entity(match, self._at()))
        self.pos = match.end()

    def _tag(self) -> None:
        if self.source.startswith("</", self.pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        begin = self.pos
        name, i = _read_name(self.source, begin + 1)
        if i >= len(self.source):
            raise _error(f"Unclosed start tag at {self._at(begin)}")
        if name not in _SUPPORTED_TAGS:
            raise _error(f'Unsupported start tag "{name}" at {self._at()}')
        attributes, self.pos = _read_attributes(self.source, i, name, begin)
        attribute = _tag_attribute(name, attributes, self._at(begin))
        self.stack.append(_OpenTag(name, self.utf16_offset, attribute))

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise _error(f"Unexpected end tag at {self._at(begin)}")
        name, i = _read_name(self.source, begin + 2)
        expected = self.stack[-1].name
        if name and name != expected:
            raise _error(
                f"Unmatched end tag at {self._at(begin)}, "
                f'expected "</{expected}>", found "</{name}>"'
            )
        while i < len(self.source) and self.source[i] in _SPACE:
            i += 1
        if i >= len(self.source) or self.source[i] != ">":
            raise _error(f"Unclosed end tag at {self._at(begin)}")
        self.pos = i + 1
        self._close(self.stack.pop())

    def _close(self, tag: _OpenTag) -> None:
        length = self.utf16_offset - tag.utf16_offset
        entity = _make_entity(tag, length)
        if entity is None:
            return
        inner = [
            e for e in self.entities if e.offset >= entity.offset and _ends(e) <= _ends(entity)
        ]
        if entity.type == "pre" and inner and inner[-1].type == "code":
            entity = _merge_pre_code(entity, inner[-1], inner)
            self.entities.remove(inner[-1])
            inner = inner[:-1]
        for child in inner:
            _check_nesting(child, entity)
        self.entities.append(entity)


def _ends(entity: Entity) -> int:
    return entity.offset + entity.length


def _merge_pre_code(pre: Entity, code: Entity, inner: list[Entity]) -> Entity:
    """``<pre><code class="language-x">`` is one pre entity with a language, as in Telegram."""
    if code.offset == pre.offset and code.length == pre.length and len(inner) == 1:
        return Entity("pre", pre.offset, pre.length, language=code.language)
    raise _error('Entity "code" can\'t be mixed with other text inside "pre"')


def _check_nesting(child: Entity, parent: Entity) -> None:
    """Enforce the Bot API's nesting rules (Telegram would silently drop the entity)."""
    if parent.type in ("code", "pre"):
        raise _error(f'Entity "{child.type}" can\'t be nested in "{parent.type}"')
    if child.type in _EXCLUSIVE and parent.type in _EXCLUSIVE:
        raise _error(f'Entity "{child.type}" can\'t be nested in "{parent.type}"')
    if child.type in _BLOCKQUOTES and parent.type in _BLOCKQUOTES:
        raise _error("Blockquote entities can't be nested")


def _make_entity(tag: _OpenTag, length: int) -> Entity | None:
    """The entity a closed tag stands for; empty ones vanish as they do in Telegram."""
    if length == 0:
        return None
    offset = tag.utf16_offset
    if tag.name in _SIMPLE_TAGS:
        kind = _SIMPLE_TAGS[tag.name]
        language = tag.attribute if kind == "code" else None
        return Entity(kind, offset, length, language=language)
    if tag.name == "span":
        return Entity("spoiler", offset, length)
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.attribute is not None else "blockquote"
        return Entity(kind, offset, length)
    if tag.name == "tg-emoji":
        return Entity("custom_emoji", offset, length, custom_emoji_id=tag.attribute)
    if not tag.attribute:  # <a> without a usable href: Telegram keeps the text only
        return None
    return Entity("text_link", offset, length, url=tag.attribute)


@dataclass(frozen=True, slots=True)
class _At:
    """A position in the source, rendered as Telegram does ("byte offset N", UTF-8 bytes).

    The byte count is computed only when an error message formats it.
    """

    source: str
    pos: int

    def __str__(self) -> str:
        return f"byte offset {len(self.source[: self.pos].encode())}"


def _read_name(source: str, i: int) -> tuple[str, int]:
    """A tag name runs to the first space or ``>``; Telegram compares it lower-cased."""
    start = i
    n = len(source)
    while i < n and source[i] not in _SPACE and source[i] != ">":
        i += 1
    return source[start:i].lower(), i


def _read_attributes(
    source: str, i: int, tag: str, tag_pos: int
) -> tuple[dict[str, str | None], int]:
    """Read ``name=value`` pairs up to ``>``; returns them and the position after ``>``."""
    at = _At(source, tag_pos)
    attributes: dict[str, str | None] = {}
    n = len(source)
    while True:
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n:
            raise _error(f"Unclosed start tag at {at}")
        if source[i] == ">":
            return attributes, i + 1
        start = i
        while i < n and source[i] not in _SPACE and source[i] not in "=>":
            i += 1
        name = source[start:i].lower()
        if not name:
            raise _error(f'Empty attribute name in the tag "{tag}" at {at}')
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n or source[i] != "=":
            if (tag, name) != ("blockquote", "expandable"):
                raise _error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" at {at}'
                )
            attributes[name] = None
            continue
        value, i = _read_value(source, i + 1, tag, at)
        attributes[name] = value


def _read_value(source: str, i: int, tag: str, at: _At) -> tuple[str, int]:
    """An attribute value: quoted (entities decoded) or a bare name token."""
    n = len(source)
    while i < n and source[i] in _SPACE:
        i += 1
    if i >= n:
        raise _error(f"Unclosed start tag at {at}")
    quote = source[i]
    if quote in "\"'":
        end = source.find(quote, i + 1)
        if end < 0:
            raise _error(f"Unclosed start tag at {at}")
        return _decode_attribute(source[i + 1 : end], at), end + 1
    start = i
    while i < n and (source[i].isalnum() or source[i] in ".-"):
        i += 1
    if i < n and source[i] not in _SPACE and source[i] != ">":
        raise _error(f'Unexpected end of name token in the tag "{tag}" at {_At(source, i)}')
    return source[start:i].lower(), i


def _decode_attribute(raw: str, at: _At) -> str:
    """Decode entities inside a quoted attribute value, with the same strictness as text."""
    if "&" not in raw:
        return raw
    parts: list[str] = []
    pos = 0
    while (amp := raw.find("&", pos)) >= 0:
        parts.append(raw[pos:amp])
        match = _ENTITY.match(raw, amp)
        if match is None:
            raise _error(f"Character '&' in the tag at {at} is not escaped")
        parts.append(_decode_entity(match, at))
        pos = match.end()
    parts.append(raw[pos:])
    return "".join(parts)


def _tag_attribute(name: str, attributes: dict[str, str | None], at: _At) -> str | None:
    """The one attribute each tag cares about; others are ignored, as Telegram does."""
    if name == "a":
        return attributes.get("href") or ""
    if name == "code":
        css = attributes.get("class") or ""
        return css.removeprefix("language-") if css.startswith("language-") else None
    if name == "span":
        if attributes.get("class") != "tg-spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" at {at}')
        return None
    if name == "blockquote":
        return "" if "expandable" in attributes else None
    if name == "tg-emoji":
        emoji_id = attributes.get("emoji-id") or ""
        if not emoji_id.isdigit():
            raise _error("Invalid custom emoji identifier specified")
        return emoji_id
    return None


def _decode_entity(match: re.Match[str], at: _At) -> str:
    """The character an entity stands for; unknown names and bad code points are errors."""
    hex_digits, decimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise _error(f'Unsupported HTML entity "&{name};" at {at}')
        return _NAMED_ENTITIES[name]
    code = int(hex_digits, 16) if hex_digits is not None else int(decimal)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _error(f"Invalid character reference {match.group(0)} at {at}")
    return chr(code)


def _error(detail: str) -> TelegramHTMLError:
    return TelegramHTMLError(f"Can't parse entities: {detail}")
