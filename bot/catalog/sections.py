"""The catalog's sections, each validated on its own (pydantic, strict: an unknown key
is a problem), and the whole :class:`Catalog` with the look-ups the bot makes of it."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import GenericTranslator, SelectorError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.catalog.fields import LANG_CODE, REGION_CODE, Code, HostName, WebUrl, check_url
from bot.chat_ids import numeric_chat_id

LocalizedText = str | dict[str, str]


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
    article_hosts: list[HostName] = Field(default_factory=list)
    # WordPress categories/tags (names or slugs) that make a story breaking news: one list
    # for every language, or a table of lists keyed by language.
    breaking: list[str] | dict[str, list[str]] = Field(default_factory=list)

    @field_validator("unmatched")
    @classmethod
    def _unmatched(cls, value: str) -> str:
        if value not in ("none", "all") and not REGION_CODE.match(value):
            raise ValueError(f"{value!r} must be 'none', 'all' or a region code")
        return value

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not LANG_CODE.match(code):
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
    code: Code
    name: LocalizedText
    keywords: list[str] = Field(default_factory=list)
    # WordPress category/tag names or slugs that mean this region: one list for every
    # language, or a list per language; they win over keywords.
    categories: list[str] | dict[str, list[str]] = Field(default_factory=list)
    timezone: str = "UTC"

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

    code: Code
    name: LocalizedText
    categories: list[str] | dict[str, list[str]] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


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
        return check_url(value, schemes=("http", "https", "file"))

    @field_validator("wordpress")
    @classmethod
    def _wordpress(cls, value: str | bool | None) -> str | bool | None:
        if value is True:
            raise ValueError("give the REST base URL, or false to turn WordPress off")
        return check_url(value) if isinstance(value, str) else value

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
        if (number := numeric_chat_id(text)) is not None:
            return number
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
            check_url(u)
        return self


class DonateLink(_Strict):
    label: LocalizedText
    url: str | dict[str, str]

    @field_validator("url")
    @classmethod
    def _urls(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        for u in [value] if isinstance(value, str) else value.values():
            check_url(u)
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
