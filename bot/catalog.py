"""The outlet's editorial map (``catalog.toml``): regions, languages, feeds, channels.

Loaded and validated once at start (CONTRACT.md "Catalog"). Every problem is
reported with the key it is about (``feeds[2].regions``), all at once, so an
operator fixes the file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import GenericTranslator, SelectorError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.catalog_errors import Trimmed, located, original_positions, without_bad_blocks
from bot.errors import ConfigError

LocalizedText = str | dict[str, str]

_REGION_CODE = re.compile(r"^[a-z0-9_]+$")
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def _check_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in schemes:
        raise ValueError(f"malformed URL {value!r}: scheme must be one of {', '.join(schemes)}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"malformed URL {value!r}: no host")
    if " " in value.strip():
        raise ValueError(f"malformed URL {value!r}: contains spaces")
    return value.strip()


def _web_url(value: str) -> str:
    return _check_url(value)


WebUrl = Annotated[str, AfterValidator(_web_url)]

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host_name(value: str) -> str:
    """A bare host name (``news.example.com``), lower case; no scheme, port or path."""
    host = value.strip().rstrip(".").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not host or len(ascii_host) > 253 or not all(_HOST_LABEL.match(x) for x in labels):
        raise ValueError(f"{value!r} is not a host name like 'news.example.com' (no scheme, path)")
    return host


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outlet(_Strict):
    name: str = Field(min_length=1)
    site: WebUrl
    default_language: str = "en"
    languages: list[str] = Field(min_length=1)
    # An article removed from the site (gone from the WordPress REST API) has its sent
    # messages deleted; operators are told either way.
    delete_removed: bool = False
    # Where an article that matches no region goes: "none" (no region's channels or
    # readers), "all" (every region of its language) or one region's code.
    unmatched: str = "none"
    # Hosts besides the site's and the feeds' whose article pages may be fetched (each
    # with its subdomains), e.g. a CDN or a sister domain the feeds link to.
    article_hosts: list[Annotated[str, AfterValidator(_host_name)]] = Field(default_factory=list)
    # WordPress categories/tags (names or slugs) that make a story breaking news: one list
    # for every language, or a table of lists keyed by language.
    breaking: list[str] | dict[str, list[str]] = Field(default_factory=list)

    @field_validator("unmatched")
    @classmethod
    def _unmatched(cls, value: str) -> str:
        if value not in ("none", "all") and not _REGION_CODE.match(value):
            raise ValueError(f"{value!r} must be 'none', 'all' or a region code")
        return value

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not _LANG_CODE.match(code):
                raise ValueError(f"{code!r} is not a language code like 'en'")
        if len(set(value)) != len(value):
            raise ValueError("languages are listed twice")
        return value

    @model_validator(mode="after")
    def _default_listed(self) -> Outlet:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        return self


class Region(_Strict):
    code: str
    name: LocalizedText
    keywords: list[str] = Field(default_factory=list)
    # WordPress category/tag names or slugs that mean this region: one list for every
    # language, or a list per language; they win over keywords.
    categories: list[str] | dict[str, list[str]] = Field(default_factory=list)
    timezone: str = "UTC"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _REGION_CODE.match(value):
            raise ValueError(f"{value!r} must match [a-z0-9_]+")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class Topic(_Strict):
    """A subject readers and chats may follow besides regions (economy, politics...).

    An article has a topic when one of its WordPress categories or tags is among the
    topic's ``categories`` (one list for every language, or a list per language), else
    when one of its ``keywords`` is in its categories, URL path or title.
    """

    code: str
    name: LocalizedText
    categories: list[str] | dict[str, list[str]] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _REGION_CODE.match(value):
            raise ValueError(f"{value!r} must match [a-z0-9_]+")
        return value


class Feed(_Strict):
    url: str
    language: str
    regions: list[str] = Field(default_factory=list)
    interval: int = Field(default=180, ge=10, le=86400)
    type: Literal["rss", "html"] = "rss"
    links: str = ""
    # The WordPress REST base (``…/wp-json/wp/v2/``); unset: found from the feed itself;
    # false: never use a REST API for this feed.
    wordpress: str | bool | None = None
    name: str = ""
    backlog: int = Field(default=0, ge=0, le=50)
    horizon: int = Field(default=48, ge=1, le=24 * 365)  # hours: older items are not pushed
    # hours after an article is first stored during which a changed title or summary edits
    # the messages already sent (0: never edit)
    corrections_hours: int = Field(default=48, ge=0, le=24 * 30)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, schemes=("http", "https", "file"))

    @field_validator("wordpress")
    @classmethod
    def _wordpress(cls, value: str | bool | None) -> str | bool | None:
        if value is True:
            raise ValueError("give the REST base URL, or false to turn WordPress off")
        return _check_url(value) if isinstance(value, str) else value

    @property
    def wordpress_base(self) -> str | None:
        """The REST base the catalog names, if it names one."""
        return self.wordpress if isinstance(self.wordpress, str) else None

    @property
    def discovers_wordpress(self) -> bool:
        """No ``wordpress`` line: the REST API is looked for in the feed's answers."""
        return self.wordpress is None

    @model_validator(mode="after")
    def _html_needs_links(self) -> Feed:
        if self.type == "html" and not self.links:
            raise ValueError("type 'html' needs 'links' (a CSS selector of the article links)")
        return self


class Channel(_Strict):
    chat: str | int
    regions: list[str] = Field(default_factory=list)
    language: str
    thread: int | None = Field(default=None, ge=1)
    # A post with a lead image goes out as a photo with the post as its caption.
    photos: bool = True
    # Breaking posts are pinned for this many hours (0: not pinned).
    pin_breaking_hours: int = Field(default=0, ge=0, le=24 * 7)
    # Posts are silent (no notification sound) during the region's night, 23:00-08:00.
    silent_at_night: bool = False
    # Link previews: Telegram's choice, none, small, large, or above the text.
    link_preview: Literal["auto", "off", "small", "large", "above"] = "auto"

    @field_validator("chat")
    @classmethod
    def _chat(cls, value: str | int) -> str | int:
        if isinstance(value, int):
            return value
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", text):
            raise ValueError(f"{value!r} is neither @username nor a numeric chat id")
        return text

    @property
    def address(self) -> str:
        return str(self.chat)


class MostRead(_Strict):
    source: Literal["wordpress-popular-posts", "html", "clicks", "latest"] = "latest"
    url: str | dict[str, str] = ""
    selector: str = ""
    limit: int = Field(default=6, ge=1, le=20)
    refresh: int = Field(default=900, ge=60, le=86400)

    @field_validator("selector")
    @classmethod
    def _css(cls, value: str) -> str:
        if value:
            try:
                GenericTranslator().css_to_xpath(value)
            except SelectorError:
                raise ValueError(f"{value!r} is not a valid CSS selector") from None
        return value

    @model_validator(mode="after")
    def _source_needs(self) -> MostRead:
        urls = [self.url] if isinstance(self.url, str) else list(self.url.values())
        urls = [u for u in urls if u]
        if self.source in ("wordpress-popular-posts", "html") and not urls:
            raise ValueError(f"source {self.source!r} needs 'url'")
        if self.source == "html" and not self.selector:
            raise ValueError("source 'html' needs 'selector'")
        for u in urls:
            _check_url(u)
        return self


class DonateLink(_Strict):
    label: LocalizedText
    url: str | dict[str, str]

    @field_validator("url")
    @classmethod
    def _urls(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        for u in [value] if isinstance(value, str) else value.values():
            _check_url(u)
        return value


class Stars(_Strict):
    amounts: list[Annotated[int, Field(ge=1, le=100000)]] = Field(min_length=1, max_length=8)


class Donate(_Strict):
    text: LocalizedText = ""
    links: list[DonateLink] = Field(default_factory=list)
    stars: Stars | None = None
    button: bool = True  # a donate button under every post (readers may hide it)
    appeal_every: int = Field(default=0, ge=0, le=1000)  # the appeal text on every Nth post


class Catalog(_Strict):
    outlet: Outlet
    regions: list[Region] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    feeds: list[Feed] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    mostread: MostRead = Field(default_factory=MostRead)
    donate: Donate | None = None

    @property
    def languages(self) -> list[str]:
        return self.outlet.languages

    @property
    def default_language(self) -> str:
        return self.outlet.default_language

    def region(self, code: str) -> Region | None:
        return next((r for r in self.regions if r.code == code), None)

    def text(self, value: LocalizedText, lang: str | None) -> str:
        """Pick the reader's language from a localized value, else the outlet default."""
        if isinstance(value, str):
            return value
        if lang and value.get(lang):
            return value[lang]
        if value.get(self.default_language):
            return value[self.default_language]
        return next(iter(value.values()), "")

    def topic(self, code: str) -> Topic | None:
        return next((t for t in self.topics if t.code == code), None)

    def topic_name(self, code: str, lang: str | None) -> str:
        topic = self.topic(code)
        return self.text(topic.name, lang) if topic else code

    def region_name(self, code: str, lang: str | None) -> str:
        region = self.region(code)
        return self.text(region.name, lang) if region else code

    def breaking_terms(self, lang: str) -> frozenset[str]:
        """The categories that mark breaking news in ``lang``, folded for matching."""
        terms = self.outlet.breaking
        chosen = terms if isinstance(terms, list) else terms.get(lang, [])
        return frozenset(fold_term(t) for t in chosen if fold_term(t))

    def has_donations(self) -> bool:
        return self.donate is not None and bool(self.donate.links or self.donate.stars)


def fold_term(term: str) -> str:
    """A category name or slug folded so that "Breaking News" matches "breaking-news"."""
    return "-".join(term.casefold().replace("_", " ").replace("-", " ").split())


def cross_check(catalog: Catalog) -> list[str]:
    """Rules that span sections: region codes and languages must be declared."""
    problems: list[str] = []
    codes = [r.code for r in catalog.regions]
    langs = set(catalog.languages)
    for i, region in enumerate(catalog.regions):
        if codes.count(region.code) > 1 and codes.index(region.code) != i:
            problems.append(f"regions[{i}].code: {region.code!r} is declared twice")
        problems += _localized_keys(f"regions[{i}].name", region.name, langs)
        if isinstance(region.categories, dict):
            problems += _localized_keys(f"regions[{i}].categories", region.categories, langs)
    problems += _topic_problems(catalog)
    known = set(codes)
    unmatched = catalog.outlet.unmatched
    if unmatched not in ("none", "all") and unmatched not in known:
        problems.append(f"outlet.unmatched: unknown region code {unmatched!r}")
    placed: list[tuple[str, list[str], str]] = [
        *((f"feeds[{i}]", f.regions, f.language) for i, f in enumerate(catalog.feeds)),
        *((f"channels[{i}]", c.regions, c.language) for i, c in enumerate(catalog.channels)),
    ]
    for where, regions, language in placed:
        for code in regions:
            if code not in known:
                problems.append(f"{where}.regions: unknown region code {code!r}")
        if language not in langs:
            problems.append(f"{where}.language: {language!r} is not in outlet.languages")
    seen_urls: set[str] = set()
    for i, feed in enumerate(catalog.feeds):
        if feed.url in seen_urls:
            problems.append(f"feeds[{i}].url: {feed.url!r} is listed twice")
        seen_urls.add(feed.url)
    destinations = [(c.chat, c.thread) for c in catalog.channels]
    for i, dest in enumerate(destinations):
        if destinations.index(dest) != i:
            problems.append(f"channels[{i}].chat: {dest[0]!r} is listed twice")
    if isinstance(catalog.outlet.breaking, dict):
        problems += _localized_keys("outlet.breaking", catalog.outlet.breaking, langs)
    if isinstance(catalog.mostread.url, dict):
        problems += _localized_keys("mostread.url", catalog.mostread.url, langs)
    if catalog.donate:
        problems += _localized_keys("donate.text", catalog.donate.text, langs)
        for i, link in enumerate(catalog.donate.links):
            problems += _localized_keys(f"donate.links[{i}].label", link.label, langs)
            problems += _localized_keys(f"donate.links[{i}].url", link.url, langs)
    return problems


def _topic_problems(catalog: Catalog) -> list[str]:
    """Topics: unique codes that cannot be read as a language in a deep link
    (``georgia-en-economy``), names and categories in declared languages, and something
    to match articles by."""
    problems: list[str] = []
    langs = set(catalog.languages)
    codes = [t.code for t in catalog.topics]
    for i, topic in enumerate(catalog.topics):
        where = f"topics[{i}]"
        if codes.index(topic.code) != i:
            problems.append(f"{where}.code: {topic.code!r} is declared twice")
        if topic.code in langs:
            problems.append(f"{where}.code: {topic.code!r} is also a language code")
        if not topic.categories and not topic.keywords:
            problems.append(f"{where}: give categories or keywords, or no article will match")
        problems += _localized_keys(f"{where}.name", topic.name, langs)
        if isinstance(topic.categories, dict):
            problems += _localized_keys(f"{where}.categories", topic.categories, langs)
    return problems


def _localized_keys(
    where: str, value: LocalizedText | Mapping[str, object], langs: set[str]
) -> list[str]:
    if isinstance(value, str):
        return []
    return [f"{where}.{k}: {k!r} is not in outlet.languages" for k in value if k not in langs]


def _describe(err: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for p in err.get("loc", ()):
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
        elif p in ("str", "dict[str,str]", "function-after[_web_url(), str]"):
            continue
        else:
            parts.append(str(p))
    where = ".".join(parts) or "catalog"
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    if kind == "missing":
        return f"{where}: required key is missing"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}"


def parse_catalog(
    data: Mapping[str, Any], *, base_dir: Path | None = None, text: str | None = None
) -> Catalog:
    """Validate a decoded catalog; raise ConfigError listing every problem.

    With the file's ``text``, each problem also names its block (a channel's chat, a
    feed's URL, a region's code) and its line.
    """
    catalog, problems = _validate(_resolve_files(data, base_dir))
    if catalog is None or problems:
        raise ConfigError(located(problems, data, text) if text is not None else problems)
    return catalog


def _validate(data: Mapping[str, Any]) -> tuple[Catalog | None, list[str]]:
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        return None, list(dict.fromkeys(problems + _cross_check_valid_blocks(data)))
    return catalog, cross_check(catalog)


def _cross_check_valid_blocks(data: Mapping[str, Any], passes: int = 4) -> list[str]:
    """The cross-section rules on what remains once the invalid blocks are taken out,
    so that one malformed feed does not hide the channel errors after it."""
    trimmed: Trimmed | None = Trimmed.of(data)
    for _ in range(passes):
        if trimmed is None:
            return []
        try:
            catalog = Catalog.model_validate(trimmed.data)
        except ValidationError as exc:
            trimmed = without_bad_blocks(trimmed, (tuple(e["loc"]) for e in exc.errors()))
            continue
        return [original_positions(p, trimmed.kept) for p in cross_check(catalog)]
    return []


def _resolve_files(data: Mapping[str, Any], base_dir: Path | None) -> Mapping[str, Any]:
    """Make ``file://relative/path`` feed URLs absolute, relative to the catalog file."""
    feeds = data.get("feeds")
    if base_dir is None or not isinstance(feeds, list):
        return data
    resolved = []
    for feed in feeds:
        url = feed.get("url") if isinstance(feed, dict) else None
        if isinstance(url, str) and url.startswith("file://") and not url.startswith("file:///"):
            path = (base_dir / url.removeprefix("file://")).resolve()
            feed = {**feed, "url": path.as_uri()}
        resolved.append(feed)
    return {**data, "feeds": resolved}


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"NEWSBOT_CATALOG: file {str(path)!r} does not exist"]) from None
    except OSError as exc:
        raise ConfigError([f"NEWSBOT_CATALOG: cannot read {str(path)!r}: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"catalog: {path} is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"catalog: {path} is not valid TOML: {exc}"]) from None
    return parse_catalog(data, base_dir=path.resolve().parent, text=raw.decode("utf-8"))
