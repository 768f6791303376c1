"""The outlet's editorial map (``catalog.toml``): regions, languages, feeds, channels.

Loaded and validated once at start (CONTRACT.md "Catalog"). Every problem is
reported with the key it is about (``feeds[2].regions``), all at once, so an
operator fixes the file in one pass.

- :mod:`bot.catalog.fields`: values a section checks on its own (URLs, host names, codes);
- :mod:`bot.catalog.sections`: the sections (outlet, regions, topics, feeds, channels,
  most-read, donations) and the whole :class:`Catalog`;
- :mod:`bot.catalog.cross_check`: the rules that span sections;
- :mod:`bot.catalog.problems`: problems located by block and line, and the blocks left
  once the malformed ones are taken out;
- :mod:`bot.catalog.load`: read, validate, report.
"""

from bot.catalog.cross_check import cross_check
from bot.catalog.load import load_catalog, parse_catalog
from bot.catalog.sections import (
    Catalog,
    Channel,
    Donate,
    DonateLink,
    Feed,
    LocalizedText,
    MostRead,
    Outlet,
    Region,
    Stars,
    Topic,
    fold_term,
)

__all__ = [
    "Catalog",
    "Channel",
    "Donate",
    "DonateLink",
    "Feed",
    "LocalizedText",
    "MostRead",
    "Outlet",
    "Region",
    "Stars",
    "Topic",
    "cross_check",
    "fold_term",
    "load_catalog",
    "parse_catalog",
]
