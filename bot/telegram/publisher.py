"""The publisher: one outbox delivery becomes one Bot API call, and its answer an outcome.

This is where Telegram's answers are interpreted (DESIGN.md decisions 2 and 4), for every
kind of outbox row alike (posts, digests, weekly lists, alerts, edits, deletions, pins:
``bot.outbox.kinds``): a 429 pauses everything, 403 means the chat is gone,
a migrated group moves, unparseable HTML is resent once as plain text, an edit of an
unchanged or vanished message has nothing left to do, and a request whose answer never
came is ``Unknown`` (never re-sent).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from datetime import timedelta
from typing import Any, NamedTuple, TextIO, cast

from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.request import RequestData

from bot.chat_ids import chat_id_of
from bot.clock import Clock, SystemClock
from bot.domain import Button, RenderedMessage
from bot.outbox.compose import PostBuilder
from bot.outbox.kinds import DELETE, PIN, POST, TEXT_KINDS
from bot.outbox.postform import PostForm, is_night, post_form
from bot.outbox.queue import (
    ChatGone,
    Dead,
    Delivery,
    Migrated,
    Outcome,
    ResendAsPlainText,
    ResendWithoutPhoto,
    Retry,
    Sent,
    Skipped,
    Unknown,
)
from bot.outbox.render import CAPTION_LIMIT
from bot.telegram.answers import call_for_message_id
from bot.telegram.markup import keyboard
from bot.telegram.request import ConnectionNotSent
from bot.text.html import html_to_text

log = logging.getLogger(__name__)

CHAT_GONE_HINTS = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "bot is not a member",
    "have no rights to send",
    "not enough rights",
    "need administrator rights",
    "chat_write_forbidden",
    "message thread not found",
    "peer_id_invalid",
)


#: Answers to an edit, a deletion or a pin that leave nothing to do (a post's send never
#: gets them): the message is unchanged, or gone, or too old to change.
MESSAGE_GONE_HINTS = (
    "message is not modified",
    "message to edit not found",
    "message to delete not found",
    "message to pin not found",
    "message can't be edited",
    "message can't be deleted",
    "message_id_invalid",
)
#: An edit, deletion or pin whose post is still being sent waits this long (seconds).
WAIT_FOR_POST = 60.0
#: States of a post that may still get its message id.
_SENDING = ("pending", "retry", "claimed", "inflight")


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def interpret(exc: Exception) -> Outcome:
    """Map a Bot API failure to what the outbox should do next."""
    match exc:
        case RetryAfter():
            wait = seconds(exc.retry_after)
            return Retry(error=f"429 retry after {wait:.0f}s", after=wait, pause_all=True)
        case ChatMigrated():
            return Migrated(new_address=str(exc.new_chat_id))
        case Forbidden():
            return ChatGone(error=exc.message)
        case BadRequest():
            text = exc.message.lower()
            if "can't parse entities" in text or "can't find end" in text:
                return ResendAsPlainText(error=exc.message)
            if any(hint in text for hint in MESSAGE_GONE_HINTS):
                return Skipped(error=exc.message)
            if any(hint in text for hint in CHAT_GONE_HINTS):
                return ChatGone(error=exc.message)
            return Dead(error=exc.message)
        case ConnectionNotSent():
            return Retry(error=f"not sent: {exc.message}")
        case TimedOut():
            return Unknown(error=f"no answer: {exc.message}")
        case NetworkError():
            return Unknown(error=f"network: {exc.message}")
        case TelegramError():
            return Dead(error=exc.message)
    return Retry(error=f"unexpected: {exc!r}")


#: Telegram's answers when it cannot fetch or use a photo given by URL: resent as text once.
PHOTO_REFUSED_HINTS = (
    "wrong file identifier/http url specified",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "wrong remote file identifier",
)


def photo_refused(exc: Exception) -> bool:
    """Whether a failed ``sendPhoto`` was Telegram refusing the image itself."""
    return isinstance(exc, BadRequest) and any(
        hint in exc.message.lower() for hint in PHOTO_REFUSED_HINTS
    )


class TelegramPublisher:
    """Sends through python-telegram-bot's request backend (``AiohttpRequest``).

    Broadcasts are the hot path (DESIGN.md "cost": <= 0.5 ms CPU per message), so each
    ``sendMessage`` is posted through ``Bot.request`` with its parameters ready (the
    keyboard JSON-encoded once per rendered message), and of its answer only the message
    id is read (``bot.telegram.answers``). Going
    through ``Bot.send_message`` would convert every parameter, pass six more layers and
    parse a ``Message``: about 0.1 ms of CPU per message (``bench/fanout.py``), a fifth of
    the budget. Errors are still PTB's (``RetryAfter``, ``Forbidden``, ``ChatMigrated`` ...):
    ``BaseRequest.post`` reads every error answer as it does for any call.

    A post with a lead image goes out as ``sendPhoto`` (``bot.outbox.postform``); when Telegram
    refuses the image, the row is resent once as text. A breaking post for a chat that
    pins it gets a ``pin`` row when it is recorded as sent (``bot.outbox.sender``): the pin is
    paced like every other request.
    """

    def __init__(
        self,
        bot: ExtBot[Any],
        posts: PostBuilder,
        *,
        paid_broadcast: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._bot = bot
        self._posts = posts
        self._paid = paid_broadcast
        self._clock = clock or SystemClock()

    def params(
        self, delivery: Delivery, message: RenderedMessage, form: PostForm | None = None
    ) -> dict[str, Any]:
        """The sendMessage (or sendPhoto) parameters, strings where PTB would JSON-encode."""
        params: dict[str, Any] = {"chat_id": chat_id_of(delivery.address)}
        if form is not None and form.photo:
            params["photo"] = form.photo
            params["caption"] = message.text
        else:
            params["text"] = message.text
            params["link_preview_options"] = (
                form.preview if form is not None else _PREVIEW[message.disable_preview]
            )
        if not delivery.plain_text:
            params["parse_mode"] = ParseMode.HTML.value
        markup = markup_json(message.buttons)
        if markup is not None:
            params["reply_markup"] = markup
        if delivery.thread_id:
            params["message_thread_id"] = delivery.thread_id
        if form is not None and form.silent:
            params["disable_notification"] = True
        if self._paid:
            params["allow_paid_broadcast"] = True
        return params

    def form(self, delivery: Delivery, message: RenderedMessage) -> PostForm:
        """Photo or text, preview and sound for this delivery, now."""
        night = delivery.silent_at_night and is_night(
            self._clock.now(), self._posts.timezone(delivery)
        )
        return post_form(delivery, message, night=night)

    async def publish(self, delivery: Delivery) -> Outcome:
        """One outbox row, whatever its kind, as one Bot API call and its outcome."""
        if delivery.kind == POST:
            return await self._post(delivery)
        if delivery.kind in TEXT_KINDS:
            return await self._call("sendMessage", self.text_params(delivery))
        if delivery.target_message_id is None:
            return without_message(delivery)
        method, params = self.message_call(delivery, delivery.target_message_id)
        outcome = await self._call(method, params, pin=delivery.kind == PIN)
        if isinstance(outcome, Unknown):  # an edit, deletion or pin may safely go again
            return Retry(error=outcome.error)
        return outcome

    async def _post(self, delivery: Delivery) -> Outcome:
        message = self._posts.build(delivery)
        form = self.form(delivery, message)
        method = "sendPhoto" if form.photo else "sendMessage"
        try:
            message_id = await call_for_message_id(
                self._bot.request,
                f"{self._bot.base_url}/{method}",
                ready_parameters(self.params(delivery, message, form)),
            )
        except Exception as exc:
            if form.photo and photo_refused(exc):
                log.warning("image %s refused in %s: %s", form.photo, delivery.address, exc)
                return ResendWithoutPhoto(error=str(exc))
            return interpret(exc)
        return Sent(message_id=message_id, photo=bool(form.photo))

    async def _call(self, method: str, params: dict[str, Any], *, pin: bool = False) -> Outcome:
        try:
            message_id = await call_for_message_id(
                self._bot.request, f"{self._bot.base_url}/{method}", ready_parameters(params)
            )
        except BadRequest as exc:
            if pin:  # no right to pin, say: the post stays sent, unpinned
                log.warning("could not pin in %s: %s", params["chat_id"], exc.message)
                return Skipped(error=exc.message)
            return interpret(exc)
        except Exception as exc:
            return interpret(exc)
        return Sent(message_id=message_id)

    def text_params(self, delivery: Delivery) -> dict[str, Any]:
        """A digest, weekly list or alert: its ready HTML, without preview."""
        params: dict[str, Any] = {
            "chat_id": chat_id_of(delivery.address),
            "link_preview_options": _PREVIEW[True],
        }
        if delivery.plain_text:
            params["text"] = html_to_text(delivery.body)
        else:
            params["text"] = delivery.body
            params["parse_mode"] = ParseMode.HTML.value
        if delivery.thread_id:
            params["message_thread_id"] = delivery.thread_id
        if self._paid:
            params["allow_paid_broadcast"] = True
        return params

    def message_call(self, delivery: Delivery, message_id: int) -> tuple[str, dict[str, Any]]:
        """The edit (text or caption, rendered from the article as it is now), deletion or
        pin of a post's message."""
        params: dict[str, Any] = {
            "chat_id": chat_id_of(delivery.address),
            "message_id": message_id,
        }
        if delivery.kind == DELETE:
            return "deleteMessage", params
        if delivery.kind == PIN:
            return "pinChatMessage", params
        if delivery.sent_as_photo:
            message = self._posts.build(delivery, limit=CAPTION_LIMIT)
            params["caption"] = message.text
            method = "editMessageCaption"
        else:
            message = self._posts.build(delivery)
            params["text"] = message.text
            params["link_preview_options"] = _PREVIEW[message.disable_preview]
            method = "editMessageText"
        if not delivery.plain_text:
            params["parse_mode"] = ParseMode.HTML.value
        markup = markup_json(message.buttons)
        if markup is not None:
            params["reply_markup"] = markup
        return method, params


def without_message(delivery: Delivery) -> Outcome:
    """An edit, deletion or pin whose post has no message id: it waits while the post is
    still being sent; a post that ended unsent (or was pruned) has nothing to change."""
    if delivery.target_state in _SENDING:
        return Retry(error=f"{delivery.kind} waits for its post to be sent", after=WAIT_FOR_POST)
    return Skipped(error=f"no message to {delivery.kind}")


class _Parameter(NamedTuple):
    """What ``RequestData`` reads of a parameter (PTB's own class converts on the way)."""

    name: str
    value: object
    input_files: None = None

    @property
    def json_value(self) -> str:
        return self.value if isinstance(self.value, str) else json.dumps(self.value)


def ready_parameters(params: dict[str, Any]) -> RequestData:
    """Parameters already as Telegram takes them (strings, numbers, booleans, JSON text),
    wrapped for ``BaseRequest.post`` without PTB's per-parameter conversion."""
    return RequestData(cast(Any, [_Parameter(name, value) for name, value in params.items()]))


_PREVIEW = {True: json.dumps({"is_disabled": True}), False: json.dumps({"is_disabled": False})}


@functools.lru_cache(maxsize=256)
def markup_json(buttons: tuple[tuple[Button, ...], ...]) -> str | None:
    """The inline keyboard as the JSON string Telegram takes (cached: posts repeat it)."""
    markup = keyboard(RenderedMessage(text="", buttons=buttons))
    return None if markup is None else json.dumps(markup.to_dict(), separators=(",", ":"))


class DryRunPublisher:
    """Prints what would be sent (destination, text, buttons) instead of calling Telegram."""

    def __init__(self, posts: PostBuilder, out: TextIO | None = None) -> None:
        self._posts = posts
        self._out = out
        self.count = 0

    async def publish(self, delivery: Delivery) -> Outcome:
        out = self._out or sys.stdout
        where = delivery.address + (f" (topic {delivery.thread_id})" if delivery.thread_id else "")
        if delivery.kind != POST:
            what = delivery.body or f"[{delivery.kind} of message {delivery.target_message_id}]"
            print(f"──── {delivery.kind} to {where} ────\n{what}\n", file=out, flush=True)
            self.count += 1
            return Sent(message_id=None)
        message = self._posts.build(delivery)
        lines = [
            f"──── to {where} [{delivery.chat_kind}, {delivery.chat_language}] ────",
            message.text,
        ]
        form = post_form(delivery, message, night=False)
        if form.photo:
            lines.insert(1, f"[photo {form.photo}]")
        for row in message.buttons:
            lines.append("  ".join(f"[{b.text} → {b.url or b.callback_data}]" for b in row))
        print("\n".join(lines) + "\n", file=out, flush=True)
        self.count += 1
        return Sent(message_id=None)
