"""Deliveries become messages: one rendering per article and language, reused for every chat.

Every subscriber of one edition gets the same text, so the rendered message is
cached by (article, language, plain-text flag, appeals hidden); the cache is
small and bounded.

Donation appeals follow the catalog's cadence (``[donate]``): a donate button
under every post when ``button`` is on, and the appeal text as the post's last
paragraph on every ``appeal_every``-th article (chosen by article id, so every
chat shows it on the same posts), never on breaking posts; a reader who hid
appeals gets neither.

Private posts get a Share button (Telegram's chat picker, then inline mode sends the
card) when the bot has inline mode.

An article that exists in other languages (hreflang links in the feed) gets one row
of URL buttons to those versions, "Read in: RU · KA · …", limited to the catalog's
languages and to :data:`MAX_ROW_BUTTONS` (Telegram's limit for one row).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable

from bot.catalog import Catalog
from bot.domain import Button, RenderedMessage
from bot.i18n import Translator
from bot.outbox.clean import visible_text
from bot.outbox.queue import Delivery
from bot.outbox.render import MESSAGE_LIMIT, render_post

log = logging.getLogger(__name__)

#: Telegram shows at most 8 buttons in one row of an inline keyboard.
MAX_ROW_BUTTONS = 8

LinkBuilder = Callable[[str, str, str], str]  # (kind, target url, edition) -> url shown


def direct_link(_kind: str, url: str, _edition: str) -> str:
    """Without a public URL the buttons point straight at the page."""
    return url


def appeal_due(article_id: int, every: int, *, breaking: bool = False) -> bool:
    """Whether this article's post carries the appeal line: every Nth, never when breaking."""
    return every > 0 and not breaking and article_id % every == 0


class PostBuilder:
    def __init__(
        self,
        catalog: Catalog,
        translator: Translator,
        *,
        links: LinkBuilder = direct_link,
        cache_size: int = 512,
        sharing: Callable[[], bool] = lambda: False,
    ) -> None:
        self._catalog = catalog
        self._tr = translator
        self._links = links
        self._sharing = sharing
        self._cache: OrderedDict[tuple[object, ...], RenderedMessage] = OrderedDict()
        self._cache_size = cache_size

    def link(self, kind: str, url: str, edition: str) -> str:
        """The URL a button shows: tracked through ``/r/`` with a public URL, else direct."""
        return self._links(kind, url, edition)

    def build(self, delivery: Delivery, *, limit: int = MESSAGE_LIMIT) -> RenderedMessage:
        """The post for this delivery; ``limit`` is 1024 for a caption (a photo's edit)."""
        key = (
            limit,
            delivery.article_id,
            delivery.chat_language,
            delivery.plain_text,
            delivery.hide_appeals,
            delivery.title,  # a corrected article renders anew
            delivery.summary,
            delivery.alternates,
            delivery.breaking,
            self.shares(delivery),
        )
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        message = self._render(delivery, limit)
        self._cache[key] = message
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return message

    def _render(self, d: Delivery, limit: int) -> RenderedMessage:
        lang = d.chat_language
        edition = f"{'+'.join(d.regions) or 'all'}-{lang}"
        read_more = Button(
            text=self._tr.plain(lang, "post.read_more"),
            url=self.link("article", d.url, edition),
        )
        message = render_post(
            title=d.title,
            url=d.url,
            summary=self._with_appeal(d, lang),
            hashtags=[self._catalog.region_name(code, lang) for code in d.regions],
            read_more=read_more,
            extra_buttons=[
                *self.read_in_rows(d, lang, edition),
                *self.share_rows(d, lang),
                *([] if d.hide_appeals else self.donate_rows(lang, edition)),
            ],
            limit=limit,
            breaking=d.breaking,
            breaking_mark=self._tr.plain(lang, "post.breaking") if d.breaking else "",
        )
        if d.plain_text:
            return RenderedMessage(visible_text(message.text), message.buttons, True)
        return message

    def shares(self, d: Delivery) -> bool:
        """Whether the post carries a Share button: private posts only, and only when the
        bot has inline mode (Telegram refuses the button otherwise)."""
        return d.chat_kind == "private" and self._sharing()

    def share_rows(self, d: Delivery, lang: str) -> list[list[Button]]:
        """The Share button: Telegram's chat picker, with ``#<article id>`` typed for the
        bot there, which inline mode answers with this story's card."""
        if not self.shares(d):
            return []
        return [
            [Button(text=self._tr.plain(lang, "post.share_button"), share_query=f"#{d.article_id}")]
        ]

    def _with_appeal(self, d: Delivery, lang: str) -> str:
        """The summary, ending with the catalog's appeal on the posts the cadence picks
        (never on breaking news)."""
        donate = self._catalog.donate
        due = donate is not None and appeal_due(
            d.article_id, donate.appeal_every, breaking=d.breaking
        )
        if donate is None or d.hide_appeals or not due:
            return d.summary
        appeal = self._catalog.text(donate.text, lang).strip()
        return f"{d.summary}\n\n{appeal}" if appeal else d.summary

    def timezone(self, d: Delivery) -> str:
        """The time zone of the article's first catalog region (UTC for none): whose night
        a chat that is silent at night keeps."""
        for code in d.regions:
            region = self._catalog.region(code)
            if region is not None:
                return region.timezone
        return "UTC"

    def read_in_rows(self, d: Delivery, lang: str, edition: str) -> list[list[Button]]:
        """One row of buttons to the story in the catalog's other languages, or none.

        The first button carries the label ("Read in: RU"), the others only the code,
        in the catalog's language order.
        """
        order = {code: index for index, code in enumerate(self._catalog.languages)}
        chosen: dict[str, str] = {}
        for code, url in parse_alternates(d.alternates):
            base = code.split("-")[0].split("_")[0].lower()
            if base in order and base != lang and url != d.url:
                chosen.setdefault(base, url)
        codes = sorted(chosen, key=order.__getitem__)[:MAX_ROW_BUTTONS]
        if not codes:
            return []
        label = self._tr.plain(lang, "post.read_in")
        return [
            [
                Button(
                    text=f"{label} {code.upper()}" if index == 0 else code.upper(),
                    url=self.link("article", chosen[code], edition),
                )
                for index, code in enumerate(codes)
            ]
        ]

    def donate_rows(self, lang: str, edition: str) -> list[list[Button]]:
        """The donate button under posts, when the catalog has donation links."""
        donate = self._catalog.donate
        if donate is None or not donate.links or not donate.button:
            return []
        url = self._catalog.text(donate.links[0].url, lang)
        return [
            [
                Button(
                    text=self._tr.plain(lang, "post.donate"),
                    url=self.link("donate", url, edition),
                )
            ]
        ]


def parse_alternates(raw: str) -> list[tuple[str, str]]:
    """``articles.alternates`` (JSON ``[[language, url], ...]``); bad data is logged and ignored."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("unreadable article alternates %r; no language buttons", raw[:80])
        return []
    pairs = []
    for pair in data if isinstance(data, list) else []:
        if (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(v, str) for v in pair)
            and pair[1].startswith(("http://", "https://"))
        ):
            pairs.append((pair[0], pair[1]))
    return pairs
