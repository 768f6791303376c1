"""Share and search: inline mode (``@bot words`` in any chat) and ``/search words`` in private.

Both look among the recent stories of the reader's language (``bot.storage.search``),
folded as regions are (case, ``ё``, Turkic ``İ``, Georgian capitals, Armenian marks), and
rank by match and age (``bot.text.search``). Picking an inline result sends the story's
card as channels get it, with its tracked Read-more button; ``#<id>`` (what a post's
Share button types) finds that one story. Each user gets a small budget of searches
(inline queries arrive at every keystroke); beyond it a query is simply not answered.
Answers go out through the bot's rate limiter like every reply.
"""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, InlineQueryHandler, filters

from bot.callbacks import RateLimiter
from bot.domain import Button, RenderedMessage
from bot.outbox.clean import clean_line, http_url, shorten
from bot.outbox.queue import Delivery
from bot.outbox.render import render_list
from bot.storage.search import Story, find_stories, story_by_id
from bot.telegram.markup import button, keyboard
from bot.text.search import Query, parse_query, rank
from handlers.services import Services

log = logging.getLogger(__name__)

INLINE_RESULTS = 20  # Telegram takes up to 50; 20 fill a phone screen twice
LIST_RESULTS = 8
CACHE_SECONDS = 30
DESCRIPTION_UNITS = 160
TITLE_UNITS = 200


class Search:
    def __init__(self, services: Services, limiter: RateLimiter | None = None) -> None:
        self.s = services
        # Inline queries come at each keystroke (clients wait a little between them).
        self.limiter = limiter or RateLimiter(burst=8, per_second=1.0)

    async def stories(self, query: Query, lang: str, limit: int) -> list[Story]:
        """The best ``limit`` stories for ``query`` in ``lang``."""
        if query.hopeless:
            return []
        now = self.s.clock.now()
        async with self.s.sessions() as session:
            if query.story_id is not None:
                story = await story_by_id(session, query.story_id)
                return [story] if story is not None else []
            found = await find_stories(session, lang, query.stems, now)
        by_id = {story.id: story for story in found}
        order = rank([(s.id, s.search_text, s.created_at) for s in found], query.words, now, limit)
        return [by_id[scored.id] for scored in order]

    def card(self, story: Story, lang: str) -> RenderedMessage:
        """The story as a post to a chat of ``lang``: tracked Read-more, Read-in, donate."""
        delivery = Delivery(
            id=0,
            attempts=0,
            plain_text=False,
            chat_pk=0,
            address="",
            thread_id=0,
            chat_kind="inline",
            chat_language=lang,
            article_id=story.id,
            title=story.title,
            url=story.url,
            summary=story.summary,
            regions=story.regions,
            alternates=story.alternates,
            image_url=story.image_url,
        )
        return self.s.posts.build(delivery)

    def result(self, story: Story, lang: str) -> InlineQueryResultArticle:
        message = self.card(story, lang)
        thumbnail = http_url(story.image_url) if story.image_url else None
        return InlineQueryResultArticle(
            id=str(story.id),
            title=shorten(clean_line(story.title) or story.url, TITLE_UNITS),
            description=shorten(clean_line(story.summary), DESCRIPTION_UNITS) or None,
            thumbnail_url=thumbnail or None,
            input_message_content=InputTextMessageContent(
                message.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=message.disable_preview),
            ),
            reply_markup=keyboard(message),
        )

    async def inline(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        inline = update.inline_query
        if inline is None or not self.limiter.allow(inline.from_user.id):
            return
        lang = await self.language_of(inline.from_user)
        stories = await self.stories(parse_query(inline.query), lang, INLINE_RESULTS)
        try:
            await inline.answer(
                [self.result(story, lang) for story in stories],
                cache_time=CACHE_SECONDS,
                is_personal=True,
            )
        except BadRequest as exc:  # too late (the reader typed on) or refused: nothing to do
            log.info("inline query not answered: %s", exc)

    async def search(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not self.limiter.allow(user.id):
            return
        lang = await self.s.language_for(update)
        tr = self.s.translator
        text = " ".join(context.args or [])
        query = parse_query(text)
        if not query.words:
            usage = tr.gettext(lang, "search.usage")
            if inline_mode(context):
                hint = tr.gettext(lang, "search.inline_hint", bot=context.bot.username)
                usage = f"{usage}\n\n{hint}"
            await message.reply_text(usage, parse_mode=ParseMode.HTML)
            return
        stories = await self.stories(query, lang, LIST_RESULTS)
        if not stories:
            await message.reply_text(
                tr.gettext(lang, "search.nothing", query=text), parse_mode=ParseMode.HTML
            )
            return
        await message.reply_text(
            self.listing(stories, lang, text),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=self.share_markup(context, lang, text),
        )

    def listing(self, stories: list[Story], lang: str, text: str) -> str:
        """Linked titles (tracked links) with their regions as hashtags."""
        catalog = self.s.catalog
        items = []
        for story in stories:
            edition = f"{'+'.join(story.regions) or 'all'}-{lang}"
            url = self.s.posts.link("article", story.url, edition)
            items.append((story.title, url, [catalog.region_name(c, lang) for c in story.regions]))
        heading = self.s.translator.gettext(lang, "search.heading", query=text)
        return render_list(heading=heading, items=items)

    def share_markup(
        self, context: ContextTypes.DEFAULT_TYPE, lang: str, text: str
    ) -> InlineKeyboardMarkup | None:
        """ "Send a story to a chat": the chat picker with the words typed, when inline
        mode is on."""
        if not inline_mode(context):
            return None
        label = self.s.translator.plain(lang, "search.share_button")
        return InlineKeyboardMarkup([[button(Button(text=label, share_query=text[:256]))]])

    async def language_of(self, user: User) -> str:
        """An inline query has no chat: the user's saved language (their private chat with
        the bot), else Telegram's, else the outlet's."""
        return await self.s.language_of_user(user)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [
            InlineQueryHandler(self.inline),
            CommandHandler("search", self.search, filters=filters.ChatType.PRIVATE),
        ]


def inline_mode(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the bot has inline mode (getMe), so inline buttons and hints make sense."""
    try:
        return bool(context.bot.supports_inline_queries)
    except RuntimeError:  # not initialized
        return False
