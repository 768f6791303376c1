"""Text made safe for Telegram's HTML parse mode: measured, cleaned, escaped, shortened.

Telegram counts its limits in UTF-16 units of the text *after* entity parsing, so lengths
here are measured on plain text and every cut is made on plain text before escaping: a cut
can never split a tag or an entity. Everything from outside (feed titles, URLs, button
labels) is cleaned of characters Telegram rejects or that would garble the message. Pure:
the building blocks of ``bot.outbox.render``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot.text.utf16 import utf16_len

ELLIPSIS = "…"
HASHTAG_UNITS = 64


# --- measuring -------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_HASHTAG_IN_TEXT = re.compile(r"(?<![\w#])#\w+")


def visible_text(html_text: str) -> str:
    """The plain text Telegram shows for well-formed HTML built by this module or i18n."""
    return html.unescape(_TAG.sub("", html_text))


def visible_length(html_text: str) -> int:
    """UTF-16 length of the text after Telegram parses the HTML (what the limits apply to)."""
    return utf16_len(visible_text(html_text))


def entity_count(html_text: str) -> int:
    """Opening tags plus hashtags: a conservative count of the entities Telegram will make."""
    opening = sum(1 for tag in _TAG.findall(html_text) if not tag.startswith("</"))
    return opening + len(_HASHTAG_IN_TEXT.findall(visible_text(html_text)))


# --- cleaning and escaping -------------------------------------------------------------


def _unsafe_class() -> str:
    """Characters never passed on: controls (except newline), surrogates, noncharacters,
    the byte-order mark and bidi embeddings/overrides/isolates. The bidi controls are
    dropped because an unbalanced one in a title would reverse the rest of the message
    (a known spoofing trick); the harmless marks LRM/RLM/ALM are kept."""
    ranges = [
        "\x00-\x09",
        "\x0b-\x1f",
        "\x7f-\x9f",
        "\ud800-\udfff",
        "\u202a-\u202e",
        "\u2066-\u2069",
        "\ufeff",
        "\ufdd0-\ufdef",
        "\ufffe\uffff",
    ]
    ranges += [
        chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(1, 17)
    ]
    return "[" + "".join(ranges) + "]"


_UNSAFE = re.compile(_unsafe_class())
# Whitespace-like controls become spaces (so words do not merge) before unsafe ones go.
_AS_SPACE = str.maketrans({"\t": " ", "\x0b": " ", "\x0c": " ", "\x85": " "})
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")


def _strip_unsafe(text: str) -> str:
    """Normalise line breaks and remove characters Telegram rejects or that garble text."""
    text = _NEWLINES.sub("\n", text).translate(_AS_SPACE)
    return _UNSAFE.sub("", text)


def clean_line(text: str) -> str:
    """One line of outside text (a title, a label): safe characters, single spaces."""
    return _ANY_SPACE.sub(" ", _strip_unsafe(text)).strip()


def clean_block(text: str) -> str:
    """Multi-line outside text (a summary): safe characters, at most one blank line."""
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in _strip_unsafe(text).split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def escape(text: str) -> str:
    """Outside text made safe for Telegram HTML element content."""
    return html.escape(_strip_unsafe(text), quote=False)


def escape_attr(text: str) -> str:
    """Outside text made safe inside a double-quoted attribute (``href``)."""
    return html.escape(_strip_unsafe(text), quote=True)


# Characters legal in neither URLs nor our attribute quoting; browsers encode them the same way.
_URL_ENCODE = str.maketrans({ch: f"%{ord(ch):02X}" for ch in "\"'<>\\^`{|}"})


def http_url(url: str) -> str | None:
    """The URL ready for ``href``/buttons if it is absolute http(s), else ``None``.

    Anything else (``javascript:``, ``data:``, relative paths, spaces) must never become a
    link: the title is then shown without one.
    """
    candidate = url.strip()
    if not candidate or _UNSAFE.search(candidate) or any(ch.isspace() for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return (scheme + candidate[len(scheme) :]).translate(_URL_ENCODE)


def hashtag(text: str) -> str:
    """``#tag`` from a region code or name: letters, digits and ``_`` only, or ``""``.

    Other characters become ``_`` separators ("South Ossetia" -> ``#South_Ossetia``); a tag
    of digits alone is not a hashtag for Telegram, so it yields ``""`` as well.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", _strip_unsafe(text)):
        category = unicodedata.category(ch)
        if category[0] == "L" or category == "Nd" or (category[0] == "M" and out):
            out.append(ch)
        else:
            out.append("_")
    body = re.sub("_+", "_", "".join(out)).strip("_")
    body = _prefix_units(body, HASHTAG_UNITS).rstrip("_")
    if not any(unicodedata.category(ch)[0] == "L" for ch in body):
        return ""
    return "#" + body


def hashtags_of(raw: Iterable[str]) -> tuple[str, ...]:
    """Sanitised, non-empty, de-duplicated (case-insensitively) hashtags in caller order."""
    seen: set[str] = set()
    tags: list[str] = []
    for item in raw:
        tag = hashtag(item)
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


# --- shortening ------------------------------------------------------------------------

_ZWJ = "\u200d"
_SENTENCE_END = re.compile(r"[.!?…։。](?:[\"'»”’)\]]*)(?=\s)")
_TRAILING_JUNK = " \n,;:-–—·…"


def _is_extender(ch: str) -> bool:
    """A character that belongs to the grapheme before it (marks, ZWJ, emoji modifiers)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == _ZWJ
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_boundary(text: str, index: int) -> bool:
    """Whether cutting before ``text[index]`` keeps every user-visible character whole."""
    if index <= 0 or index >= len(text):
        return True
    if _is_extender(text[index]) or text[index - 1] == _ZWJ:
        return False
    if _is_regional(text[index]) and _is_regional(text[index - 1]):
        run = 0
        while index - run - 1 >= 0 and _is_regional(text[index - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _prefix_units(text: str, max_units: int) -> str:
    """The longest prefix within ``max_units`` UTF-16 units that ends on a grapheme boundary."""
    used = 0
    end = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > max_units:
            break
        end += 1
    while end > 0 and not _is_boundary(text, end):
        end -= 1
    return text[:end]


def shorten(text: str, max_units: int, *, sentences: bool = False) -> str:
    """``text`` cut to at most ``max_units`` UTF-16 units, never mid-character.

    With ``sentences`` a cut after a complete sentence is preferred (and needs no ellipsis)
    when it keeps at least half the room; otherwise the cut falls on a word boundary when
    one keeps half the room, and "…" marks it.
    """
    if utf16_len(text) <= max_units:
        return text
    if max_units < 1:
        return ""
    if sentences:
        head = _prefix_units(text, max_units)
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, len(head) + 1)]
        ends = [end for end in ends if end <= len(head)]
        if ends and ends[-1] * 2 >= len(head):
            return head[: ends[-1]].rstrip()
    head = _prefix_units(text, max_units - 1)
    if not text[len(head)].isspace():
        space = max(head.rfind(" "), head.rfind("\n"))
        if space * 2 >= len(head):
            head = head[:space]
    return head.rstrip(_TRAILING_JUNK) + ELLIPSIS
