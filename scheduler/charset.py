"""Which encoding fetched text is really in, when its label and its bytes disagree.

Sites mislabel: a feed declared UTF-8 is really windows-1251, a page declared
windows-1251 is really UTF-8. Decoded as labelled, such text becomes mojibake
("Ã‘â€š", "РўР±") or U+FFFD, and would be posted as is. The rules, in order:

1. ASCII is ASCII whatever the label.
2. Bytes that are valid UTF-8 (with some non-ASCII) are UTF-8: no legacy text is
   valid UTF-8 by accident.
3. A declared legacy charset is kept when the bytes decode in it and, for the
   Cyrillic and Latin families of :data:`CANDIDATES`, charset-normalizer finds no
   clearly better reading (KOI8-R labelled windows-1251 decodes without error, but
   reads as a mess).
4. Text that is UTF-8 but for a few bad bytes is decoded with U+FFFD in their place
   (``lossy``): callers drop what carries it. (Legacy text is never "mostly UTF-8":
   nearly every one of its non-ASCII bytes breaks a UTF-8 sequence.)
5. Otherwise charset-normalizer detects the encoding (among :data:`CANDIDATES`).
6. Failing everything, ``None``: the caller skips the document with one log line.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

#: Bad UTF-8 sequences tolerated per decoded non-ASCII character in "UTF-8 but for a few".
_LOSSY_SHARE = 0.1
#: How much less messy (charset-normalizer's chaos, 0..1) a guess must read than the label.
_CLEARLY_BETTER = 0.1
#: What detection chooses from: the Unicode forms and the legacy encodings of the
#: Cyrillic and Latin-script sites a newsroom in this part of the world links to. A
#: wider list lets a short Russian text in KOI8-R "read best" as Shift_JIS.
CANDIDATES = (
    "utf_8",
    "utf_16",
    "utf_32",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "mac_cyrillic",
    "cp866",
    "cp1252",
    "cp1254",
)
_KNOWN = frozenset(codecs.lookup(name).name for name in CANDIDATES)
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']""")


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the Python codec name used
    lossy: bool = False  # some bytes were undecodable: U+FFFD stands in the text


def codec_name(label: str | None) -> str | None:
    """The Python codec a charset label names (``"UTF8"`` -> ``"utf-8"``), or ``None``."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def html_charset(body: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` near its start, if any."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def xml_charset(body: bytes) -> str | None:
    """The ``encoding`` of an XML declaration, if any."""
    match = _XML_ENCODING.match(body[:512])
    return match.group(1).decode("ascii") if match else None


def decode(body: bytes, declared: str | None) -> Decoded | None:
    """``body`` as text, by the rules in the module docstring; ``None`` if nothing fits."""
    label = codec_name(declared)
    if body.isascii():
        return Decoded(body.decode("ascii"), "ascii")
    if label in _WIDE:
        wide = _strict(body, label)
        if wide is not None:
            return Decoded(wide, label)
    utf8 = _strict(body, "utf-8-sig")
    if utf8 is not None:
        return Decoded(utf8, "utf-8")
    if label is not None and label not in _WIDE and label != "utf-8":
        text = _strict(body, label)
        # Only a label from the known families is second-guessed (Big5 stays Big5).
        if text is not None and (label not in _KNOWN or not _reads_better_otherwise(body, label)):
            return Decoded(text, label)
    return _mostly_utf8(body) or _detected(body)


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _reads_better_otherwise(body: bytes, label: str) -> bool:
    """Whether charset-normalizer reads ``body`` clearly better in another encoding."""
    fit = from_bytes(body, cp_isolation=[label]).best()
    label_chaos = fit.chaos if fit is not None else 1.0
    best = from_bytes(body, cp_isolation=list(CANDIDATES)).best()
    if best is None or codec_name(best.encoding) == label:
        return False
    return best.chaos + _CLEARLY_BETTER <= label_chaos


def _detected(body: bytes) -> Decoded | None:
    best = from_bytes(body, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        return None
    encoding = codec_name(best.encoding) or best.encoding
    text = _strict(body, encoding)
    return Decoded(text, encoding) if text is not None and "\ufffd" not in text else None


def _mostly_utf8(body: bytes) -> Decoded | None:
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if ord(char) > 127) - bad
    if good > 0 and bad <= max(1, int(good * _LOSSY_SHARE)):
        return Decoded(text, "utf-8", lossy=True)
    return None
