"""The out-of-the-box data: catalog.example.toml, samples/feeds/ and .env.example.

A newcomer's first `newsbot run --dry-run` reads these files, so they must stay valid
as the validators, the parser and the settings evolve: the catalog must load, every
sample feed must parse cleanly and classify into the catalog's regions, and
.env.example must document every setting with its real default.
"""

from __future__ import annotations

import os
import re
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import feedparser
import pytest

from bot.catalog import Catalog, load_catalog
from bot.config import Settings
from bot.domain import FeedEntry
from bot.text.fold import contains_keyword, fold
from bot.text.html import html_to_text
from bot.text.summarize import summarize
from scheduler.classify import RegionMatcher
from scheduler.parse import parse_feed

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "catalog.example.toml"
FEEDS = ROOT / "samples" / "feeds"
ENV_EXAMPLE = ROOT / ".env.example"

EXPECTED_ITEMS = {"en": 6, "ru": 4, "ka": 3, "hy": 3, "az": 3}
REGION_CODES = {"georgia", "armenia", "azerbaijan", "abkhazia", "south_ossetia"}
RSS_HEADERS = {"content-type": "application/rss+xml; charset=UTF-8"}
GUID = re.compile(r"^https://caucasus-wire\.example/\?p=(\d+)$")
ENV_LINE = re.compile(r"^(?:#\s*)?NEWSBOT_([A-Z0-9_]+)=(.*)$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def _raw_feed(lang: str) -> Any:
    return feedparser.parse((FEEDS / f"{lang}.xml").read_bytes(), response_headers=RSS_HEADERS)


def _entries(lang: str) -> tuple[FeedEntry, ...]:
    path = FEEDS / f"{lang}.xml"
    parsed = parse_feed(path.read_bytes(), RSS_HEADERS, path.as_uri())
    assert parsed.error is None
    return parsed.entries


# --- catalog.example.toml ---------------------------------------------------------------


def test_example_catalog_declares_every_section(catalog: Catalog) -> None:
    assert catalog.outlet.site == "https://caucasus-wire.example"
    assert catalog.languages == ["en", "ru", "ka", "hy", "az"]
    assert {r.code for r in catalog.regions} == REGION_CODES
    assert sorted(f.language for f in catalog.feeds) == sorted(EXPECTED_ITEMS)
    assert catalog.mostread.source == "latest"
    assert catalog.has_donations()
    assert catalog.donate is not None and catalog.donate.stars is not None
    assert catalog.donate.stars.amounts == [50, 250, 1000]


def test_feeds_resolve_to_the_bundled_samples_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    catalog = load_catalog(CATALOG)
    for feed in catalog.feeds:
        parts = urlsplit(feed.url)
        assert parts.scheme == "file"
        path = Path(url2pathname(parts.path))
        assert path == FEEDS / f"{feed.language}.xml"
        assert path.is_file()
        assert feed.backlog == 3
        assert feed.interval == 60


def test_regions_are_named_and_found_in_every_language(catalog: Catalog) -> None:
    for region in catalog.regions:
        assert isinstance(region.name, dict)
        assert set(region.name) == set(catalog.languages), region.code
        for lang, name in region.name.items():
            haystack = fold(name, lang)
            found = [k for k in region.keywords if contains_keyword(haystack, k, lang)]
            assert found, f"no keyword of {region.code} finds its {lang} name {name!r}"


def test_keywords_are_not_listed_twice(catalog: Catalog) -> None:
    for region in catalog.regions:
        folded = [fold(k) for k in region.keywords]
        assert len(folded) == len(set(folded)), region.code


def test_timezones_follow_the_region(catalog: Catalog) -> None:
    zones = {r.code: r.timezone for r in catalog.regions}
    assert zones == {
        "georgia": "Asia/Tbilisi",
        "armenia": "Asia/Yerevan",
        "azerbaijan": "Asia/Baku",
        "abkhazia": "Asia/Tbilisi",
        "south_ossetia": "Asia/Tbilisi",
    }


def test_every_region_has_an_english_and_a_russian_channel(catalog: Catalog) -> None:
    for lang in ("en", "ru"):
        covered = {code for c in catalog.channels if c.language == lang for code in c.regions}
        assert covered == REGION_CODES, lang


def test_localized_reader_texts_cover_every_language(catalog: Catalog) -> None:
    assert catalog.donate is not None
    texts = [catalog.donate.text, *(link.label for link in catalog.donate.links)]
    for text in texts:
        assert isinstance(text, dict)
        assert set(text) == set(catalog.languages)
        assert all(value.strip() for value in text.values())


# --- samples/feeds ----------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "count"), sorted(EXPECTED_ITEMS.items()))
def test_sample_feed_parses_cleanly(lang: str, count: int) -> None:
    parsed = _raw_feed(lang)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == count
    assert parsed.feed.language.split("-")[0] == lang
    assert parsed.feed.link.startswith("https://caucasus-wire.example")


@pytest.mark.parametrize("lang", sorted(EXPECTED_ITEMS))
def test_sample_items_look_like_wordpress(lang: str) -> None:
    for item in _raw_feed(lang).entries:
        assert item.get("tags"), f"{item.title!r} has no category"
        assert GUID.match(item.id), item.id
        assert item.guidislink is False
        assert item.link.startswith("https://caucasus-wire.example/")
        assert item.get("author")
        assert item.summary.strip()
        content = item.content[0].value
        assert content.count("<p>") >= 3
        assert "<figure" in content and "<figcaption" in content
        assert "<strong>" in content and "<a href=" in content


@pytest.mark.parametrize("lang", sorted(EXPECTED_ITEMS))
def test_sample_dates_are_november_2026_newest_first(lang: str) -> None:
    items = _raw_feed(lang).entries
    dates = [parsedate_to_datetime(item.published) for item in items]
    assert dates == sorted(dates, reverse=True)
    for item, date in zip(items, dates, strict=True):
        assert (date.year, date.month) == (2026, 11)
        # A wrong weekday name is invisible to feedparser but not to a reader.
        assert item.published.startswith(date.strftime("%a, ")), item.published
    build = parsedate_to_datetime(_raw_feed(lang).feed.updated)
    assert build == dates[0]


def test_guids_are_unique_across_feeds() -> None:
    ids = [item.id for lang in EXPECTED_ITEMS for item in _raw_feed(lang).entries]
    assert len(ids) == len(set(ids))


def test_english_titles_exercise_escaping_and_emoji() -> None:
    titles = [item.title for item in _raw_feed("en").entries]
    assert any("&" in t and '"' in t for t in titles)
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in titles)


def test_every_excerpt_and_content_ends_with_the_seo_footer_and_several_are_teasers() -> None:
    """As WordPress with an SEO plugin writes them: the footer names the item and the
    site, in the feed's language."""
    teasers = 0
    for lang in EXPECTED_ITEMS:
        feed = _raw_feed(lang)
        for item in feed.entries:
            for html in (item.summary, item.content[0].value):
                last = html_to_text(html).rsplit("\n", 1)[-1]
                assert item.title in last and feed.feed.title in last, last
            teasers += "[&#8230;]" in item.summary or "[\u2026]" in item.summary
    assert teasers >= 5


@pytest.mark.parametrize("lang", sorted(EXPECTED_ITEMS))
def test_sample_summaries_are_whole_sentences_without_footer_or_teaser_marks(
    lang: str,
) -> None:
    path = FEEDS / f"{lang}.xml"
    parsed = parse_feed(path.read_bytes(), RSS_HEADERS, path.as_uri())
    for entry in parsed.entries:
        summary = summarize(
            entry.summary_html,
            None,
            lang,
            title=entry.title,
            body_html=entry.content_html,
            sites=("Caucasus Wire",),
            url=entry.url,
        )
        assert summary and summary[-1] in '.!?։:»"”', summary
        assert entry.title not in summary and "[" not in summary and "…" not in summary


# --- samples classified by the catalog --------------------------------------------------


def test_every_sample_item_classifies_except_one_outlet_wide(catalog: Catalog) -> None:
    matcher = RegionMatcher.from_regions(catalog.regions)
    unclassified: list[str] = []
    seen: set[str] = set()
    for lang in EXPECTED_ITEMS:
        for entry in _entries(lang):
            regions = matcher.classify(entry, lang=lang)
            seen.update(regions)
            if not regions:
                unclassified.append(f"{lang}: {entry.title}")
    assert len(unclassified) == 1, unclassified
    assert unclassified[0].startswith("en: ")
    assert seen == REGION_CODES


@pytest.mark.parametrize("lang", sorted(EXPECTED_ITEMS))
def test_parser_reads_dates_and_post_ids(lang: str) -> None:
    raw_items = _raw_feed(lang).entries
    entries = _entries(lang)
    assert len(entries) == len(raw_items)
    for entry, raw in zip(entries, raw_items, strict=True):
        assert entry.published == parsedate_to_datetime(raw.published)
        match = GUID.match(raw.id)
        assert match is not None
        assert entry.wp_post_id == int(match.group(1))


# --- .env.example -----------------------------------------------------------------------


def _documented() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            assert match.group(1).lower() not in found, f"{line!r} is listed twice"
            found[match.group(1).lower()] = match.group(2)
    return found


def test_env_example_names_every_setting() -> None:
    assert set(_documented()) == set(Settings.model_fields)


def test_env_example_comments_every_setting() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if ENV_LINE.match(line.strip()):
            above = lines[i - 1].strip() if i else ""
            assert above.startswith("#") and not ENV_LINE.match(above), line


def test_env_example_values_are_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncommenting every line must change nothing: the file shows the real defaults."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("NEWSBOT_")]:
        monkeypatch.delenv(name)
    env = tmp_path / "example.env"
    env.write_text(
        "".join(f"NEWSBOT_{k.upper()}={v}\n" for k, v in _documented().items()),
        encoding="utf-8",
    )
    documented = Settings(_env_file=env)
    defaults = Settings(_env_file=None)
    assert documented.model_dump() == defaults.model_dump()
