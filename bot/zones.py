"""Any IANA time zone for a reader: by country, by city name or by UTC offset.

Readers live far from the outlet's regions (diaspora in Berlin or Moscow), so the time
zone is not limited to the catalog's. Countries and their zones come from CLDR (Babel's
``territory_zones``), names in the reader's language; a city is matched, folded as
regions are, against the zones' city names in the five languages and their IANA names
("Berlin", "Берлин", "ბერლინი", "new york"); an offset ("+4", "UTC-5", "GMT+05:30")
becomes a fixed-offset zone (``Etc/GMT-4``, shown as "UTC+4") or, for the half and
quarter hours, the zone that keeps that offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location

from bot.text.fold import fold

__all__ = ["countries", "country_zones", "find_zone", "zone_label"]

_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+\-−–])\s*(\d{1,2})(?:[:.]?(\d{2}))?", re.IGNORECASE)
# Offsets that are not whole hours: the zone that keeps them (no Etc/ zone exists).
_ODD_OFFSETS = {
    (-9, 30): "Pacific/Marquesas",
    (-3, 30): "America/St_Johns",
    (3, 30): "Asia/Tehran",
    (4, 30): "Asia/Kabul",
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (6, 30): "Asia/Yangon",
    (8, 45): "Australia/Eucla",
    (9, 30): "Australia/Darwin",
    (10, 30): "Australia/Lord_Howe",
    (12, 45): "Pacific/Chatham",
}
_ETC = re.compile(r"Etc/GMT([+-])(\d{1,2})\Z")


def zone_label(zone: str) -> str:
    """How a zone is shown: ``Etc/GMT-4`` (POSIX's inverted sign) as ``UTC+4``."""
    found = _ETC.match(zone)
    if found is None:
        return zone
    sign = "-" if found.group(1) == "+" else "+"
    return f"UTC{sign}{int(found.group(2))}"


def _offset_zone(text: str) -> str | None:
    found = _OFFSET.fullmatch(text.strip())
    if found is None:
        return None
    sign = -1 if found.group(1) != "+" else 1
    hours, minutes = int(found.group(2)), int(found.group(3) or 0)
    if minutes:
        return _ODD_OFFSETS.get((sign * hours, minutes))
    if not -12 <= sign * hours <= 14:
        return None
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"  # POSIX: the sign is inverted


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def _city(zone: str, lang: str) -> str:
    try:
        return str(get_timezone_location(get_timezone(zone), locale=lang, return_city=True))
    except (LookupError, ValueError):
        return zone.rsplit("/", 1)[-1].replace("_", " ")


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """Folded city name (any of the five languages, and the IANA name) -> zone."""
    index: dict[str, str] = {}
    zones = sorted({z for zs in get_global("territory_zones").values() for z in zs} & _known())
    for zone in zones:
        names = [zone.rsplit("/", 1)[-1].replace("_", " ")]
        names += [_city(zone, lang) for lang in ("en", "ru", "ka", "hy", "az")]
        for name in names:
            index.setdefault(fold(name).strip(), zone)
    return index


def find_zone(text: str) -> str | None:
    """The zone a reader means by ``text`` (a city, an IANA name or a UTC offset), or None."""
    text = text.strip()[:64]
    if not text:
        return None
    offset = _offset_zone(text)
    if offset is not None:
        return offset
    if text in _known() and "/" in text:
        return text
    folded = " ".join(fold(text).replace("_", " ").split())
    return _cities().get(folded) or _cities().get(folded.rsplit("/", 1)[-1])


@lru_cache(maxsize=8)
def countries(lang: str) -> tuple[tuple[str, str], ...]:
    """(territory code, name in ``lang``) of every country with a time zone, by name."""
    names = Locale.parse(lang).territories
    zones = get_global("territory_zones")
    found = [(code, str(names.get(code, code))) for code in zones if _zones_of(code)]
    return tuple(sorted(found, key=lambda pair: fold(pair[1])))


def _zones_of(code: str) -> list[str]:
    return [z for z in get_global("territory_zones").get(code, ()) if z in _known()]


def country_zones(code: str, lang: str) -> list[tuple[str, str]]:
    """(zone, label) of one country, west to east (by today's offset), then by city."""
    now = datetime.now(UTC)

    def offset(zone: str) -> float:
        delta = now.astimezone(ZoneInfo(zone)).utcoffset()
        return delta.total_seconds() if delta is not None else 0.0

    zones = sorted(_zones_of(code), key=lambda z: (offset(z), _city(z, lang)))
    return [(zone, _label(zone, lang, offset(zone))) for zone in zones]


def _label(zone: str, lang: str, seconds: float) -> str:
    hours, rest = divmod(abs(int(seconds)) // 60, 60)
    sign = "−" if seconds < 0 else "+"
    shift = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{_city(zone, lang)} ({shift})"
