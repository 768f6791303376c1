"""A local Bot API server: the fake Telegram that the whole bot runs against in tests.

It speaks enough of the Bot API, over real HTTP on loopback, for python-telegram-bot to
initialize, poll for updates, reply, broadcast, edit, manage commands and take payments.
It checks what Telegram checks on the messages we send (HTML parse mode, the 4096/1024
UTF-16 limits, inline buttons) and answers with Telegram's error shapes, so the code under
test sees the same exceptions it would see in production. It also enforces Telegram's
published flood limits, counting every violation, which is how the benchmark and the
delivery tests prove the sender stays under them.

Usage::

    async with FakeBotAPI() as api:
        bot = ptb_bot(api)                      # or NEWSBOT_TELEGRAM_API_URL=api.base_url
        api.push_message(chat_id=42, user_id=42, text="/start")
        ...
        assert api.sent[0].text == "Welcome"

Failure injection: :meth:`FakeBotAPI.block_chat`, :meth:`FakeBotAPI.migrate_chat`,
:meth:`FakeBotAPI.fail_next` and :meth:`FakeBotAPI.delay`.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
import telegram
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from bot.telegram.request import AiohttpRequest
from tests.fakes.html_rules import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    Entity,
    TelegramHTMLError,
    parse_telegram_html,
    utf16_len,
)
from tests.fakes.inline import InlineMode

__all__ = [
    "DEFAULT_TOKEN",
    "FakeBotAPI",
    "LimitViolation",
    "RecordedRequest",
    "SentMessage",
    "UploadedFile",
    "ptb_bot",
]

JSON = dict[str, Any]

DEFAULT_TOKEN: Final = "123456789:AAFakeTokenForNewsbotTests"

# Messages that count against Telegram's flood limits.
SEND_METHODS: Final = frozenset({"sendmessage", "sendphoto", "sendinvoice"})
# Update types Telegram delivers when the bot never asked for a specific list.
DEFAULT_ALLOWED_UPDATES: Final = frozenset(
    set(telegram.Update.ALL_TYPES) - {"chat_member", "message_reaction", "message_reaction_count"}
)
# Bot API method (lower-cased, as Telegram matches names case-insensitively) -> handler.
_METHODS: Final = {
    "getme": "_get_me",
    "getupdates": "_get_updates",
    "deletewebhook": "_delete_webhook",
    "setwebhook": "_set_webhook",
    "getwebhookinfo": "_get_webhook_info",
    "setmycommands": "_set_my_commands",
    "getmycommands": "_get_my_commands",
    "deletemycommands": "_delete_my_commands",
    "sendmessage": "_send_message",
    "editmessagetext": "_edit_message_text",
    "editmessagereplymarkup": "_edit_message_reply_markup",
    "deletemessage": "_delete_message",
    "answercallbackquery": "_answer_callback_query",
    "answerinlinequery": "_answer_inline_query",
    "getchat": "_get_chat",
    "getchatmember": "_get_chat_member",
    "getchatadministrators": "_get_chat_administrators",
    "sendinvoice": "_send_invoice",
    "answerprecheckoutquery": "_answer_pre_checkout_query",
    "refundstarpayment": "_refund_star_payment",
    "sendphoto": "_send_photo",
    "editmessagecaption": "_edit_message_caption",
    "pinchatmessage": "_pin_chat_message",
    "unpinchatmessage": "_unpin_chat_message",
    "sendchataction": "_true",
    "close": "_true",
    "logout": "_true",
    "setmydescription": "_true",
    "setmyshortdescription": "_true",
    "setmyname": "_true",
    "setchatmenubutton": "_true",
}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_ADMIN_RIGHTS: Final = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_RESTRICTED_RIGHTS: Final = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_react_to_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_edit_tag",
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class RecordedRequest:
    """Every call the server received, whatever its outcome (``status`` is the HTTP answer)."""

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    at: float
    status: int = 0


@dataclass(slots=True)
class SentMessage:
    """A message Telegram accepted: a send or an edit (see ``method``).

    ``text`` is the source as sent (HTML when ``parse_mode`` is HTML); ``plain_text`` and
    ``entities`` are what Telegram would show.
    """

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSON | None
    method: str
    at: float
    params: JSON
    plain_text: str = ""
    entities: list[Entity] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LimitViolation:
    """A send refused with 429: which limit (``global``, ``private``, ``group``) and where."""

    scope: str
    chat_id: int
    at: float
    retry_after: int


class _ApiError(Exception):
    """An error answer: raised anywhere in a handler, turned into a Bot API error body."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass(slots=True)
class _Injected:
    """A failure queued by ``fail_next``."""

    status: int
    description: str
    retry_after: int | None
    times: int
    parameters: JSON | None = None


# --------------------------------------------------------------------------- limits


class _Window:
    """Arrival times of accepted sends within a sliding window of ``length`` seconds.

    Kept sorted: handlers may run in another order than their requests arrived (a request
    that waited for its arrival jitter, or a photo fetched first), and each send is
    judged by the sends that arrived before it."""

    __slots__ = ("length", "times")

    def __init__(self, length: float) -> None:
        self.length = length
        self.times: list[float] = []

    def _in_window(self, now: float) -> tuple[int, int]:
        """Positions of the sends within ``(now - length, now]`` (dropping those that can
        no longer be within any window judged from now on, a second of disorder allowed)."""
        times = self.times
        stale = bisect.bisect_right(times, now - self.length - 1.0)
        if stale:
            del times[:stale]
        return bisect.bisect_right(times, now - self.length), bisect.bisect_right(times, now)

    def count(self, now: float) -> int:
        start, end = self._in_window(now)
        return end - start

    def add(self, at: float) -> None:
        bisect.insort(self.times, at)

    def wait(self, now: float, allowed: int) -> float:
        """Seconds until one more send fits (call after ``count``)."""
        start, end = self._in_window(now)
        if allowed <= 0 or end - start < allowed:
            return 0.0
        return self.times[end - allowed] + self.length - now


@dataclass(slots=True)
class _Limiter:
    """Telegram's published limits as sliding windows, with a jitter allowance.

    Requests arrive a little earlier or later than the sender meant, so per-chat windows are
    ``jitter`` seconds shorter than the nominal ones and the global window tolerates
    ``global_burst`` extra messages (default: 5 % of the rate, at least one). A refused
    chat or the whole bot stays refused until its ``retry_after`` has passed, as Telegram does:
    a sender that retries early is refused (and counted) again.
    """

    global_rate: float
    paid_rate: float
    global_burst: int | None
    private_burst: int
    group_per_minute: int
    jitter: float
    global_window: _Window = field(default_factory=lambda: _Window(1.0))
    chats: dict[int, _Window] = field(default_factory=dict)
    penalties: dict[int | None, float] = field(default_factory=dict)

    def check(self, chat_id: int, paid: bool, now: float) -> tuple[str, float] | None:
        """``None`` when the send may go (and is counted), else ``(scope, wait seconds)``;
        ``now`` is when the request arrived, as Telegram counts it."""
        scope = "private" if chat_id > 0 else "group"
        for key, key_scope in ((chat_id, scope), (None, "global")):
            until = self.penalties.get(key)
            if until is not None and now < until:
                return key_scope, until - now
        window = self.chats.get(chat_id)
        if window is None:
            length = (1.0 if chat_id > 0 else 60.0) - self.jitter
            window = self.chats[chat_id] = _Window(length)
        allowed = 1 + self.private_burst if chat_id > 0 else self.group_per_minute
        if window.count(now) >= allowed:
            return self._penalize(chat_id, scope, window.wait(now, allowed), now)
        rate = self.paid_rate if paid else self.global_rate
        burst = self.global_burst if self.global_burst is not None else max(1, int(rate * 0.05))
        global_allowed = int(rate) + burst
        if self.global_window.count(now) >= global_allowed:
            return self._penalize(None, "global", self.global_window.wait(now, global_allowed), now)
        window.add(now)
        self.global_window.add(now)
        return None

    def _penalize(self, key: int | None, scope: str, wait: float, now: float) -> tuple[str, float]:
        """Refuse ``key`` for the whole ``retry_after`` Telegram will announce (whole seconds)."""
        retry_after = max(1, math.ceil(wait))
        self.penalties[key] = now + retry_after
        return scope, retry_after


def _peak(times: Iterable[float], window: float) -> int:
    """The most events found in any window of ``window`` seconds (times sorted)."""
    ordered = list(times)
    best = 0
    start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --------------------------------------------------------------------------- arrival


class _ArrivalHandler(RequestHandler):
    """A server connection that notes when its last bytes came in: a request's arrival.

    Telegram counts a request when it arrives. Handlers run later, after whatever else the
    event loop is doing (in tests the bot itself shares the loop, and a burst of fifty
    requests is handled one after the other), so the moment a handler starts is not when
    the request arrived. The client sends one request at a time per connection, so the
    connection's last read is its request's arrival.
    """

    arrived_at = 0.0
    clock: Callable[[], float] = time.monotonic

    def data_received(self, data: bytes) -> None:
        self.arrived_at = self.clock()
        super().data_received(data)


class _ArrivalServer(web.Server):
    """Makes ``_ArrivalHandler`` connections (the rest is aiohttp's ``Server``)."""

    arrival_clock: Callable[[], float] = time.monotonic

    def __call__(self) -> RequestHandler:
        handler = _ArrivalHandler(self, loop=self._loop, **self._kwargs)
        handler.clock = self.arrival_clock
        return handler


class _ArrivalRunner(web.AppRunner):
    """An ``AppRunner`` whose connections note their requests' arrival."""

    def __init__(self, app: web.Application, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._arrival_clock = clock

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _ArrivalServer
        assert isinstance(server, _ArrivalServer)
        server.arrival_clock = self._arrival_clock
        return server


def _arrival(request: web.Request, clock: Callable[[], float]) -> float:
    """When ``request`` arrived (its connection's last read), or now if unknown."""
    protocol = request.protocol
    if isinstance(protocol, _ArrivalHandler) and protocol.arrived_at:
        return protocol.arrived_at
    return clock()


# --------------------------------------------------------------------------- the server


class FakeBotAPI(InlineMode):
    """A Bot API server on ``127.0.0.1`` (see the module docstring).

    Args:
        token: the only token accepted (others get 401), as a real bot has one token.
        enforce_limits: refuse sends over Telegram's flood limits with 429.
        global_rate: messages per second for the whole bot (Telegram: about 30).
        paid_rate: the same with ``allow_paid_broadcast`` (Telegram: 1000).
        global_burst: extra messages per one-second window tolerated for arrival jitter.
        private_burst: extra messages per second tolerated in one private chat.
        group_per_minute: messages per minute to one group or channel (Telegram: 20).
        jitter: seconds by which per-chat windows are shortened to absorb timing noise.
        clock: monotonic clock for limits and timestamps.
        port: the loopback port to listen on (0: any free one), so a test can name the
            address before the server is up (Telegram unreachable at the bot's start).
        inline: the bot has inline mode (BotFather's /setinline): getMe says so, inline
            queries can be pushed, and buttons that switch to inline mode are accepted.
        latency: seconds every answer takes after its request was counted (Telegram's
            processing and the way back), drawn uniformly from ``latency ± latency_jitter``.
        arrival_jitter: up to this many seconds (uniformly drawn) a request takes to arrive,
            i.e. to be counted, after it reached the server (network jitter on the way in).
        seed: of the random draws above.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        enforce_limits: bool = True,
        global_rate: float = 30.0,
        paid_rate: float = 1000.0,
        global_burst: int | None = None,
        private_burst: int = 0,
        group_per_minute: int = 20,
        jitter: float = 0.05,
        bot_username: str = "newsbot_test_bot",
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
        inline: bool = False,
        latency: float = 0.0,
        latency_jitter: float = 0.0,
        arrival_jitter: float = 0.0,
        seed: int = 1,
    ) -> None:
        self.token = token
        self.latency = (max(0.0, latency - latency_jitter), latency + latency_jitter)
        self.arrival_jitter = arrival_jitter
        self._random = random.Random(seed)
        self.port = port
        self.enforce_limits = enforce_limits
        self._limiter = _Limiter(
            global_rate, paid_rate, global_burst, private_burst, group_per_minute, jitter
        )
        self._clock = clock
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Newsbot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._init_inline(inline)
        self.base_url = ""
        # What happened, for assertions.
        self.requests: list[RecordedRequest] = []
        self.sent: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.pinned: dict[int, list[int]] = {}  # chat id -> pinned message ids, oldest first
        self.photo_urls: list[str] = []  # photo URLs fetched, as Telegram fetches them
        self.limit_violations = 0
        self.violations: list[LimitViolation] = []
        self.callback_answers: dict[str, JSON] = {}
        self.pre_checkout_answers: dict[str, JSON] = {}
        self.refunds: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook: JSON | None = None
        # (unix time, message) of the last failed webhook delivery, as getWebhookInfo tells.
        self.webhook_error: tuple[int, str] | None = None
        # World state the tests configure.
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.members: dict[tuple[int, int], JSON] = {}
        # (chat id, topic id) -> the forum_topic_created message that opened the topic.
        self.topics: dict[tuple[int, int], JSON] = {}
        self._blocked: dict[int, str] = {}
        self._migrated: dict[int, int] = {}
        self._injected: dict[str, deque[_Injected]] = {}
        self._delays: dict[str, float] = {}
        self._held: set[str] = set()
        # Internals.
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._photos: set[tuple[int, int]] = set()  # messages that are photos with a caption
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._callback_ids: set[str] = set()
        self._pre_checkout_ids: set[str] = set()
        self._charges: dict[str, JSON] = {}
        self._ids = itertools.count(1)
        self._send_times: list[float] = []
        self._chat_send_times: dict[int, list[float]] = {}
        self._changed: asyncio.Event | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on a free loopback port; ``base_url`` is then ``http://127.0.0.1:PORT``."""
        self._changed = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = _ArrivalRunner(
            app, self._clock, access_log=None, handler_cancellation=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Release pending long polls, then close the server."""
        self._closing = True
        self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """The method base PTB needs: ``{base_url}/bot{token}``."""
        return f"{self.base_url}/bot{self.token}"

    # ------------------------------------------------------------------ world setup

    def set_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        is_forum: bool | None = None,
    ) -> JSON:
        """Declare (or update) a chat; unknown chats get a type from the sign of the id."""
        chat = self._chat(chat_id)
        if chat_type is not None:
            chat["type"] = chat_type
            if chat_type != "private":
                chat.pop("first_name", None)
                chat.setdefault("title", f"Chat {chat_id}")
        for key, value in (
            ("title", title),
            ("username", username),
            ("first_name", first_name),
            ("is_forum", is_forum),
        ):
            if value is not None:
                chat[key] = value
        return chat

    def set_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """Declare (or update) a user."""
        user = self._user(user_id)
        for key, value in (
            ("first_name", first_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        return user

    def set_member(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        *,
        can_post_messages: bool | None = None,
        is_anonymous: bool = False,
        **rights: bool,
    ) -> JSON:
        """What ``getChatMember(chat_id, user_id)`` answers (status as in the Bot API:
        creator, administrator, member, restricted, left, kicked)."""
        member = _member_json(status, can_post_messages, is_anonymous, rights)
        self.members[(chat_id, user_id)] = member
        return member

    # ------------------------------------------------------------------ failure injection

    def block_chat(
        self, chat_id: int, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """From now on, sends, edits and deletions in ``chat_id`` answer 403 with
        ``description``."""
        self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.pop(chat_id, None)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """``old_chat_id`` became a supergroup: calls to it answer 400 with the new id."""
        self._migrated[old_chat_id] = new_chat_id
        old = self.chats.get(old_chat_id)
        self.set_chat(new_chat_id, "supergroup", title=old.get("title") if old else None)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        parameters: JSON | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (or ``"*"``: any) fail this way, unprocessed
        (``parameters``: more of the error's ``parameters``, as ``migrate_to_chat_id``)."""
        queue = self._injected.setdefault(method.lower(), deque())
        queue.append(_Injected(status, description, retry_after, times, parameters))

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` ``seconds`` late, *after* doing the work (0 removes the delay).

        This is the "unknown" case of delivery: Telegram sent the message, but the answer
        arrives after the client stopped waiting.
        """
        if seconds > 0:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def hold(self, method: str) -> None:
        """Keep calls of ``method`` waiting, *before* doing any work, until ``release``.

        A held call whose client went away meanwhile (the bot was killed) is dropped
        undone, as Telegram never saw it.
        """
        self._held.add(method.lower())

    def release(self, method: str) -> None:
        self._held.discard(method.lower())
        self._notify()

    def held_calls(self, method: str) -> int:
        """Calls of ``method`` waiting now."""
        return sum(1 for r in self.calls(method) if r.status == 0)

    # ------------------------------------------------------------------ updates to push

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (an ``update_id`` is assigned) for getUpdates or the webhook."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._notify()
        return update

    def push_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        language_code: str | None = "en",
        chat_type: str | None = None,
        *,
        first_name: str | None = None,
        username: str | None = None,
        message_thread_id: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """A user writes ``text`` in ``chat_id`` (private for positive ids unless told).

        A command gets its ``bot_command`` entity, as Telegram adds it; a message in a
        channel arrives as ``channel_post``.
        """
        user = self._sender(user_id, language_code, first_name, username)
        chat = self._chat_for_push(chat_id, chat_type, user)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if text:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
                ]
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
            opened = self.topics.get((chat_id, message_thread_id))
            if opened is not None:  # a message in a topic "replies" to the topic's creation
                message["reply_to_message"] = dict(opened)
        message.update(extra or {})
        if chat["type"] == "channel":  # channel posts are signed by the channel, not a user
            del message["from"]
            message["sender_chat"] = chat
            return self.push_update({"channel_post": message})
        return self.push_update({"message": message})

    def push_forum_topic_created(
        self, chat_id: int, user_id: int, name: str, icon_color: int = 7322096
    ) -> int:
        """A user opens a topic in the forum ``chat_id``; returns its ``message_thread_id``.

        As in Telegram, the topic's id is the id of the service message that opens it, and
        later messages in the topic carry that message as ``reply_to_message``.
        """
        thread_id = self._next_message_id(chat_id)
        user = self._sender(user_id, None, None, None)
        opened: JSON = {
            "message_id": thread_id,
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "from": user,
            "chat": self._chat_for_push(chat_id, None, user),
            "date": int(time.time()),
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        self.topics[(chat_id, thread_id)] = opened
        self.push_update({"message": opened})
        return thread_id

    def push_forum_topic_edited(
        self, chat_id: int, user_id: int, thread_id: int, name: str | None = None
    ) -> JSON:
        """A topic is renamed (``name``) or only its icon changed (``name`` None)."""
        edited: JSON = {"icon_custom_emoji_id": ""} if name is None else {"name": name}
        # The creation message is not edited: later messages still carry the first name.
        return self.push_message(
            chat_id, user_id, "", message_thread_id=thread_id, extra={"forum_topic_edited": edited}
        )

    def push_callback_query(
        self,
        user_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str | None = None,
    ) -> JSON:
        """A user taps an inline button with ``data`` under a message the bot sent.

        Without ``message_id`` the bot's latest message in ``chat_id`` (default: the user's
        private chat) is used.
        """
        user = self._sender(user_id, language_code, None, None)
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chat_for_push(chat_id, chat_type, user)
        query_id = str(next(self._ids) * 1000 + 7)
        self._callback_ids.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": user,
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": self._message_for_callback(chat, message_id),
        }
        return self.push_update({"callback_query": query})

    def push_my_chat_member(
        self,
        chat_id: int,
        user_id: int,
        new_status: str,
        old_status: str = "left",
        chat_type: str = "channel",
        *,
        title: str | None = None,
        username: str | None = None,
        can_post_messages: bool | None = None,
    ) -> JSON:
        """The bot's own membership changed (added as admin, removed, blocked by a user).

        The fake then behaves accordingly: ``getChatMember`` for the bot answers the new
        status, and once the bot is ``left``/``kicked`` sends to the chat answer 403 (as for
        a user who blocked the bot) until it is a member again.
        """
        user = self._sender(user_id, None, None, None)
        chat = self.set_chat(
            chat_id,
            chat_type,
            title=title if chat_type != "private" else None,
            username=username,
        )
        if chat_type == "private":
            chat.update({"first_name": user["first_name"]})
        old = _member_json(old_status, None, False, {})
        new = self.set_member(
            chat_id, self.bot_user["id"], new_status, can_post_messages=can_post_messages
        )
        if new_status in ("left", "kicked"):
            self.block_chat(chat_id, _gone_description(chat_type, new_status))
        else:
            self.unblock_chat(chat_id)
        update = {
            "chat": dict(chat),
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"user": self.bot_user, **old},
            "new_chat_member": {"user": self.bot_user, **new},
        }
        return self.push_update({"my_chat_member": update})

    def push_chat_shared(
        self,
        user_id: int,
        request_id: int,
        shared_chat_id: int,
        *,
        title: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """The user picked a chat with a ``KeyboardButtonRequestChat`` button."""
        shared: JSON = {"request_id": request_id, "chat_id": shared_chat_id}
        if title is not None:
            shared["title"] = title
        if username is not None:
            shared["username"] = username
        return self.push_message(user_id, user_id, "", language_code, extra={"chat_shared": shared})

    def push_pre_checkout_query(
        self,
        user_id: int,
        total_amount: int,
        invoice_payload: str,
        currency: str = "XTR",
        *,
        language_code: str | None = "en",
    ) -> JSON:
        """The user confirmed a payment; the bot must answer within 10 s."""
        query_id = str(next(self._ids) * 1000 + 9)
        self._pre_checkout_ids.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": self._sender(user_id, language_code, None, None),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
        }
        return self.push_update({"pre_checkout_query": query})

    def push_successful_payment(
        self,
        user_id: int,
        total_amount: int,
        invoice_payload: str,
        currency: str = "XTR",
        *,
        telegram_payment_charge_id: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """The payment went through; its charge id can then be refunded once."""
        charge_id = telegram_payment_charge_id or f"stxCharge{next(self._ids)}"
        self._charges[charge_id] = {"user_id": user_id, "refunded": False}
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        return self.push_message(
            user_id, user_id, "", language_code, extra={"successful_payment": payment}
        )

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot."""
        return len(self._updates)

    async def deliver_webhook(self) -> list[int]:
        """POST every pending update to the registered webhook (loopback only).

        Returns the HTTP statuses; updates answered 2xx are confirmed, like Telegram does.
        """
        if self.webhook is None:
            raise RuntimeError("no webhook is set")
        url = str(self.webhook["url"])
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError(f"refusing to call a non-loopback webhook: {url}")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers: dict[str, str] = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
        statuses = []
        while self._updates:
            update = self._updates[0]
            async with self._session.post(url, json=update, headers=headers) as response:
                statuses.append(response.status)
                if response.status >= 300:
                    break
            self._updates.popleft()
        return statuses

    # ------------------------------------------------------------------ queries for tests

    def messages_to(self, chat_id: int, method: str | None = "sendMessage") -> list[SentMessage]:
        """Accepted messages for one chat (only ``method`` ones; ``None`` for all)."""
        return [
            m for m in self.sent if m.chat_id == chat_id and (method is None or m.method == method)
        ]

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """The current state of a message the bot sent (after edits; ``None`` if deleted)."""
        return self._messages.get((chat_id, message_id))

    def calls(self, method: str) -> list[RecordedRequest]:
        """Requests of one method, in arrival order."""
        wanted = method.lower()
        return [r for r in self.requests if r.method.lower() == wanted]

    def commands_for(
        self, language_code: str = "", scope: str = "default"
    ) -> list[tuple[str, str]]:
        """The command menu set for a language and scope key (``default``, ``chat:123`` ...)."""
        return [
            (c["command"], c["description"]) for c in self.commands.get((scope, language_code), [])
        ]

    def max_rate_per_chat(self, window: float = 1.0) -> float:
        """The highest number of sends to one chat seen in any ``window``, per second.

        Windows are shortened by ``jitter`` as the limiter's are, so a sender that keeps
        exactly one second between messages reads as 1.0, not 2.0.
        """
        span = window - self._limiter.jitter
        peaks = (_peak(times, span) for times in self._chat_send_times.values())
        return max(peaks, default=0) / window

    def peak_rate(self, window: float = 1.0) -> float:
        """The highest number of sends to all chats seen in any ``window``, per second."""
        return _peak(self._send_times, window) / window

    def windows_over(self, limit: int, window: float = 1.0) -> int:
        """Accepted sends that found more than ``limit`` sends (themselves included) in the
        ``window`` seconds before their arrival: windows over the limit as Telegram counts
        them, with no allowance for jitter (the 429s above allow ``global_burst`` more)."""
        times = sorted(self._send_times)
        over, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            over += end - start + 1 > limit
        return over

    def achieved_rate(self) -> float:
        """Accepted sends per second between the first and the last one."""
        times = self._send_times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` holds; raises ``TimeoutError`` after ``within`` seconds.

        It is re-checked on every request this server handles, and every 50 ms besides, so
        predicates about other state (a feed server's hits, the database) work too.
        """
        async with asyncio.timeout(within):
            while not predicate():
                await self._wait_changed(at_most=0.05)

    async def wait_for_sent(self, count: int, within: float = 5.0) -> list[SentMessage]:
        """Wait until at least ``count`` messages were accepted; returns ``sent``."""
        await self.wait_for(lambda: len(self.sent) >= count, within)
        return self.sent

    # ------------------------------------------------------------------ HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.Response:
        try:
            params, files = await _read_params(request)
        except ValueError:
            params, files = {"_unreadable": True}, {}
        method = request.match_info["method"]
        slowed = method.lower() != "getupdates"
        arrived = _arrival(request, self._clock)
        if slowed and self.arrival_jitter > 0:
            arrived += self._random.uniform(0.0, self.arrival_jitter)
            await asyncio.sleep(max(0.0, arrived - self._clock()))
        record = RecordedRequest(method, params, files, arrived)
        self.requests.append(record)
        while method.lower() in self._held and not self._closing:
            await self._wait_changed(at_most=0.05)
        if request.transport is None:  # the client is gone: nothing was done
            record.status = 499
            return web.Response(status=499)
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            if "_unreadable" in params:
                raise _ApiError(400, "Bad Request: can't parse request body")
            self._raise_injected(method.lower())
            handler_name = _METHODS.get(method.lower())
            if handler_name is None:
                raise _ApiError(404, "Not Found")
            handler: Callable[[RecordedRequest], Awaitable[Any]] = getattr(self, handler_name)
            response = _ok(await handler(record))
            record.status = 200
        except _ApiError as err:
            response = _error(err)
            record.status = err.status
        self._notify()
        delay = self._delays.get(method.lower())
        if delay:
            await asyncio.sleep(delay)
        if slowed and self.latency[1] > 0:
            await asyncio.sleep(self._random.uniform(*self.latency))
        return response

    def _raise_injected(self, method: str) -> None:
        for key in (method, "*"):
            queue = self._injected.get(key)
            if queue:
                injected = queue[0]
                injected.times -= 1
                if injected.times <= 0:
                    queue.popleft()
                parameters = dict(injected.parameters or {})
                if injected.retry_after:
                    parameters["retry_after"] = injected.retry_after
                raise _ApiError(injected.status, injected.description, parameters or None)

    def _notify(self) -> None:
        """Wake everything waiting for news (long polls, ``wait_for``)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def _wait_changed(self, at_most: float | None = None) -> None:
        event = self._changed
        if event is None:
            raise RuntimeError("FakeBotAPI is not started")
        try:
            async with asyncio.timeout(at_most):
                await event.wait()
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ state helpers

    def _chat(self, chat_id: int) -> JSON:
        chat = self.chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._user(chat_id)
                chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            else:
                kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            self.chats[chat_id] = chat
        return chat

    def _user(self, user_id: int) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            self.users[user_id] = user
        return user

    def _sender(
        self,
        user_id: int,
        language_code: str | None,
        first_name: str | None,
        username: str | None,
    ) -> JSON:
        return dict(
            self.set_user(
                user_id, first_name=first_name, username=username, language_code=language_code
            )
        )

    def _chat_for_push(self, chat_id: int, chat_type: str | None, user: JSON) -> JSON:
        if chat_type is None:
            chat_type = "private" if chat_id > 0 else str(self._chat(chat_id)["type"])
        chat = self.set_chat(chat_id, chat_type)
        if chat_type == "private":
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        return dict(chat)

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.get(chat_id)
        if counter is None:
            counter = self._message_ids[chat_id] = itertools.count(1)
        return next(counter)

    def _message_for_callback(self, chat: JSON, message_id: int | None) -> JSON:
        chat_id = int(chat["id"])
        if message_id is None:
            mine = [m for m in self._messages.values() if m.chat_id == chat_id]
            message_id = mine[-1].message_id if mine else self._next_message_id(chat_id)
        stored = self._messages.get((chat_id, message_id))
        message: JSON = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": stored.plain_text if stored else "…",
        }
        if stored and stored.entities:
            message["entities"] = [_entity_json(e) for e in stored.entities]
        if stored and stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        return message

    def _resolve_chat(self, params: JSON, key: str = "chat_id") -> int:
        raw = params.get(key)
        if raw is None or raw == "":
            raise _ApiError(400, f"Bad Request: {key} is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if str(chat.get("username", "")).lower() == raw[1:].lower():
                    return int(chat["id"])
            raise _ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        new_id = self._migrated.get(chat_id)
        if new_id is not None:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )
        return chat_id

    def _writable_chat(self, params: JSON) -> int:
        """The target of a send or edit, refused like Telegram when the bot may not write."""
        chat_id = self._resolve_chat(params)
        blocked = self._blocked.get(chat_id)
        if blocked is not None:
            raise _ApiError(403, blocked)
        chat = self.chats.get(chat_id)
        me = self.members.get((chat_id, self.bot_user["id"]))
        if chat is not None and chat["type"] == "channel" and me is not None:
            may_post = me["status"] == "creator" or (
                me["status"] == "administrator" and me.get("can_post_messages", True)
            )
            if not may_post:
                raise _ApiError(400, "Bad Request: need administrator rights in the channel chat")
        return chat_id

    def _check_limits(self, chat_id: int, params: JSON, arrived: float) -> None:
        """Refuse a send over a limit with 429, judged at its arrival (``arrived``), as
        Telegram counts: not when its handler runs, later on a busy server (or a test's
        event loop shared with the bot), which would bunch sends that arrived apart."""
        if not self.enforce_limits:
            return
        now = arrived
        refused = self._limiter.check(chat_id, _bool(params.get("allow_paid_broadcast")), now)
        if refused is None:
            return
        scope, wait = refused
        retry_after = max(1, math.ceil(wait))
        self.limit_violations += 1
        self.violations.append(LimitViolation(scope, chat_id, now, retry_after))
        raise _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _accept(
        self,
        record: RecordedRequest,
        chat_id: int,
        message_id: int,
        text: str,
        parsed: tuple[str, list[Entity]],
        markup: JSON | None,
    ) -> SentMessage:
        if markup and not self.bot_user["supports_inline_queries"] and _inline_buttons(markup):
            raise _ApiError(400, "Bad Request: BOT_INLINE_DISABLED")
        parse_mode = record.params.get("parse_mode")
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            parse_mode=str(parse_mode) if parse_mode else None,
            reply_markup=markup,
            method=record.method,
            at=record.at,
            params=record.params,
            plain_text=parsed[0],
            entities=parsed[1],
        )
        self.sent.append(sent)
        self._messages[(chat_id, message_id)] = sent
        if record.method.lower() in SEND_METHODS:
            self._send_times.append(record.at)
            self._chat_send_times.setdefault(chat_id, []).append(record.at)
        return sent

    def _message_json(self, sent: SentMessage, extra: JSON | None = None) -> JSON:
        chat = dict(self._chat(sent.chat_id))
        message: JSON = {"message_id": sent.message_id, "chat": chat, "date": int(time.time())}
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = self.bot_user
        if extra is not None:
            message.update(extra)
        elif sent.plain_text:
            message["text"] = sent.plain_text
        if sent.entities:
            key = "caption_entities" if "caption" in message else "entities"
            message[key] = [_entity_json(e) for e in sent.entities]
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    # ------------------------------------------------------------------ methods

    async def _true(self, _record: RecordedRequest) -> bool:
        return True

    async def _get_me(self, _record: RecordedRequest) -> JSON:
        return self.bot_user

    async def _get_updates(self, record: RecordedRequest) -> list[JSON]:
        params = record.params
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        allowed = _json_param(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        offset = int(params.get("offset") or 0)
        while offset and self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        loop = asyncio.get_running_loop()  # real time: a test's manual clock never runs out
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            ready = self._deliverable(limit)
            remaining = deadline - loop.time()
            if ready or self._closing or remaining <= 0:
                return ready
            await self._wait_changed(remaining)

    def _deliverable(self, limit: int) -> list[JSON]:
        """Pending updates of the allowed types; others are dropped, as Telegram does."""
        if not self._updates:
            return []
        kept: deque[JSON] = deque()
        for update in self._updates:
            if any(key in self._allowed_updates for key in update if key != "update_id"):
                kept.append(update)
        self._updates = kept
        return list(itertools.islice(kept, limit))

    async def _delete_webhook(self, record: RecordedRequest) -> bool:
        self.webhook = None
        if _bool(record.params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _set_webhook(self, record: RecordedRequest) -> bool:
        params = record.params
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(record)
        if not url.startswith("https://") and urlsplit(url).hostname not in (
            "127.0.0.1",
            "localhost",
        ):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        allowed = _json_param(params, "allowed_updates")
        self.webhook["max_connections"] = int(params.get("max_connections") or 40)
        if isinstance(allowed, list) and allowed:
            self.webhook["allowed_updates"] = allowed
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, _record: RecordedRequest) -> JSON:
        info: JSON = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:  # as Telegram answers: these only while a webhook is set
            info["max_connections"] = self.webhook["max_connections"]
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def _set_my_commands(self, record: RecordedRequest) -> bool:
        commands = _json_param(record.params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: commands must be an array of at most 100 items")
        for command in commands:
            if not _COMMAND.match(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = _commands_key(record.params)
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, record: RecordedRequest) -> list[JSON]:
        return self.commands.get(_commands_key(record.params), [])

    async def _delete_my_commands(self, record: RecordedRequest) -> bool:
        self.commands.pop(_commands_key(record.params), None)
        return True

    async def _send_message(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id = self._writable_chat(params)
        text = str(params.get("text") or "")
        parsed = _parse_text(text, params.get("parse_mode"), TELEGRAM_TEXT_LIMIT, "message")
        markup = _check_markup(_json_param(params, "reply_markup"))
        self._check_limits(chat_id, params, record.at)
        sent = self._accept(record, chat_id, self._next_message_id(chat_id), text, parsed, markup)
        return self._message_json(sent)

    async def _send_photo(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id = self._writable_chat(params)
        photo = record.files.get("photo") or params.get("photo")
        if not photo:
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        caption = str(params.get("caption") or "")
        parsed = _parse_caption(caption, params.get("parse_mode"))
        markup = _check_markup(_json_param(params, "reply_markup"))
        if isinstance(photo, str):
            await self._fetch_photo(photo)
        self._check_limits(chat_id, params, record.at)
        sent = self._accept(
            record, chat_id, self._next_message_id(chat_id), caption, parsed, markup
        )
        self._photos.add((chat_id, sent.message_id))
        size = len(photo.data) if isinstance(photo, UploadedFile) else 0
        extra: JSON = {
            "photo": [
                {
                    "file_id": f"photo{sent.message_id}",
                    "file_unique_id": f"u{sent.message_id}",
                    "width": 800,
                    "height": 600,
                    "file_size": size,
                }
            ]
        }
        if parsed[0]:
            extra["caption"] = parsed[0]
        return self._message_json(sent, extra)

    async def _fetch_photo(self, photo: str) -> None:
        """Telegram downloads a photo given by URL and refuses what is not an image."""
        if not photo.startswith(("http://", "https://")):
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self.photo_urls.append(photo)
        try:
            async with self._session.get(photo, timeout=aiohttp.ClientTimeout(total=5)) as response:
                await response.read()
                kind = response.headers.get("Content-Type", "")
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise _ApiError(400, "Bad Request: failed to get HTTP URL content") from None
        if not ok:
            raise _ApiError(400, "Bad Request: failed to get HTTP URL content")
        if not kind.lower().startswith("image/"):
            raise _ApiError(400, "Bad Request: wrong type of the web page content")

    async def _edit_message_caption(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id, current = self._editable(params)
        if (chat_id, current.message_id) not in self._photos:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = str(params.get("caption") or "")
        parsed = _parse_caption(caption, params.get("parse_mode"))
        markup = _check_markup(_json_param(params, "reply_markup"))
        if parsed == (current.plain_text, current.entities) and markup == current.reply_markup:
            raise _not_modified()
        sent = self._accept(record, chat_id, current.message_id, caption, parsed, markup)
        return self._message_json(sent, {"caption": parsed[0]} if parsed[0] else {})

    def _pin_rights(self, params: JSON) -> tuple[int, int]:
        """Chat and message of a pin or unpin, refused like Telegram without the right."""
        chat_id = self._writable_chat(params)
        me = self.members.get((chat_id, self.bot_user["id"]))
        chat = self.chats.get(chat_id)
        if me is not None and chat is not None and chat["type"] != "private":
            right = "can_edit_messages" if chat["type"] == "channel" else "can_pin_messages"
            allowed = me["status"] == "creator" or (
                me["status"] == "administrator" and me.get(right, True)
            )
            if not allowed:
                raise _ApiError(
                    400, "Bad Request: not enough rights to manage pinned messages in the chat"
                )
        return chat_id, int(params.get("message_id") or 0)

    async def _pin_chat_message(self, record: RecordedRequest) -> bool:
        chat_id, message_id = self._pin_rights(record.params)
        if (chat_id, message_id) not in self._messages:
            raise _ApiError(400, "Bad Request: message to pin not found")
        pinned = self.pinned.setdefault(chat_id, [])
        if message_id not in pinned:
            pinned.append(message_id)
        return True

    async def _unpin_chat_message(self, record: RecordedRequest) -> bool:
        chat_id, message_id = self._pin_rights(record.params)
        pinned = self.pinned.get(chat_id, [])
        if not message_id and pinned:
            message_id = pinned[-1]  # without an id Telegram unpins the most recent one
        if message_id in pinned:
            pinned.remove(message_id)
        return True

    async def _send_invoice(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id = self._writable_chat(params)
        title, description, total = _check_invoice(params)
        self._check_limits(chat_id, params, record.at)
        sent = self._accept(
            record, chat_id, self._next_message_id(chat_id), title, (title, []), None
        )
        invoice = {
            "title": title,
            "description": description,
            "start_parameter": str(params.get("start_parameter") or ""),
            "currency": str(params.get("currency")),
            "total_amount": total,
        }
        return self._message_json(sent, {"invoice": invoice})

    async def _edit_message_text(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id, current = self._editable(params)
        if current.method.lower() not in (
            "sendmessage",
            "editmessagetext",
            "editmessagereplymarkup",
        ):
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str(params.get("text") or "")
        parsed = _parse_text(text, params.get("parse_mode"), TELEGRAM_TEXT_LIMIT, "message")
        markup = _check_markup(_json_param(params, "reply_markup"))
        if parsed == (current.plain_text, current.entities) and markup == current.reply_markup:
            raise _not_modified()
        sent = self._accept(record, chat_id, current.message_id, text, parsed, markup)
        return self._message_json(sent)

    async def _edit_message_reply_markup(self, record: RecordedRequest) -> JSON:
        params = record.params
        chat_id, current = self._editable(params)
        markup = _check_markup(_json_param(params, "reply_markup"))
        if markup == current.reply_markup:
            raise _not_modified()
        parsed = (current.plain_text, current.entities)
        sent = self._accept(record, chat_id, current.message_id, current.text, parsed, markup)
        sent.parse_mode = current.parse_mode
        return self._message_json(sent)

    def _editable(self, params: JSON) -> tuple[int, SentMessage]:
        if params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not supported by the fake")
        chat_id = self._writable_chat(params)
        current = self._messages.get((chat_id, int(params.get("message_id") or 0)))
        if current is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return chat_id, current

    async def _delete_message(self, record: RecordedRequest) -> bool:
        chat_id = self._resolve_chat(record.params)
        blocked = self._blocked.get(chat_id)
        if blocked is not None:  # kicked or blocked: Telegram refuses deletions too
            raise _ApiError(403, blocked)
        message_id = int(record.params.get("message_id") or 0)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append((chat_id, message_id))
        return True

    async def _answer_callback_query(self, record: RecordedRequest) -> bool:
        query_id = str(record.params.get("callback_query_id") or "")
        if query_id not in self._callback_ids:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(record.params.get("text") or "")) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._callback_ids.discard(query_id)
        self.callback_answers[query_id] = record.params
        return True

    async def _get_chat(self, record: RecordedRequest) -> JSON:
        chat = dict(self._chat(self._resolve_chat(record.params)))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        chat.setdefault(
            "accepted_gift_types",
            {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return chat

    async def _get_chat_member(self, record: RecordedRequest) -> JSON:
        chat_id = self._resolve_chat(record.params)
        user_id = int(record.params.get("user_id") or 0)
        member = self.members.get((chat_id, user_id))
        if member is None:
            member = _member_json("member" if chat_id == user_id else "left", None, False, {})
        user = self.bot_user if user_id == self.bot_user["id"] else self._user(user_id)
        return {"user": user, **member}

    async def _get_chat_administrators(self, record: RecordedRequest) -> list[JSON]:
        chat_id = self._resolve_chat(record.params)
        if chat_id > 0:
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = []
        for (member_chat, user_id), member in self.members.items():
            if member_chat == chat_id and member["status"] in ("creator", "administrator"):
                user = self.bot_user if user_id == self.bot_user["id"] else self._user(user_id)
                admins.append({"user": user, **member})
        return admins

    async def _answer_pre_checkout_query(self, record: RecordedRequest) -> bool:
        query_id = str(record.params.get("pre_checkout_query_id") or "")
        if query_id not in self._pre_checkout_ids:
            raise _ApiError(400, "Bad Request: QUERY_ID_INVALID")
        ok = _bool(record.params.get("ok"))
        if not ok and not record.params.get("error_message"):
            raise _ApiError(400, "Bad Request: error_message is empty")
        self._pre_checkout_ids.discard(query_id)
        self.pre_checkout_answers[query_id] = record.params
        return True

    async def _refund_star_payment(self, record: RecordedRequest) -> bool:
        user_id = int(record.params.get("user_id") or 0)
        charge_id = str(record.params.get("telegram_payment_charge_id") or "")
        charge = self._charges.get(charge_id)
        if charge is None or charge["user_id"] != user_id:
            raise _ApiError(400, "Bad Request: CHARGE_NOT_FOUND")
        if charge["refunded"]:
            raise _ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        self.refunds.append((user_id, charge_id))
        return True


# --------------------------------------------------------------------------- validation


def _parse_text(text: str, parse_mode: Any, limit: int, what: str) -> tuple[str, list[Entity]]:
    """Parse like Telegram and apply the length rules on the parsed text."""
    parsed = _parse_markup(text, parse_mode)
    if not parsed[0].strip():
        raise _ApiError(400, f"Bad Request: {what} text is empty")
    if utf16_len(parsed[0]) > limit:
        raise _ApiError(400, f"Bad Request: {what} is too long")
    return parsed


def _parse_caption(caption: str, parse_mode: Any) -> tuple[str, list[Entity]]:
    parsed = _parse_markup(caption, parse_mode)
    if utf16_len(parsed[0]) > TELEGRAM_CAPTION_LIMIT:
        raise _ApiError(400, "Bad Request: message caption is too long")
    return parsed


def _parse_markup(text: str, parse_mode: Any) -> tuple[str, list[Entity]]:
    mode = str(parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_telegram_html(text)
        except TelegramHTMLError as err:
            detail = str(err).removeprefix("Can't parse entities: ")
            raise _ApiError(400, f"Bad Request: can't parse entities: {detail}") from None
    if mode in ("", "markdown", "markdownv2"):
        return text, []  # Markdown is not validated: the bot only sends HTML
    raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")


def _check_markup(markup: Any) -> JSON | None:
    """Validate an inline keyboard the way Telegram does; other keyboards pass through."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise _ApiError(400, 'Bad Request: can\'t find field "text"')
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if len(actions) != 1:
        raise _ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode())
        if not 1 <= size <= 64:
            raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    if "url" in button:
        url = str(button["url"])
        parts = urlsplit(url)
        valid = (parts.scheme in ("http", "https") and bool(parts.hostname)) or (
            parts.scheme == "tg" and bool(parts.netloc or parts.path)
        )
        if not valid:
            raise _ApiError(
                400, f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
            )


def _inline_buttons(markup: JSON) -> bool:
    """Whether a keyboard has buttons that need inline mode (Telegram refuses them
    without it)."""
    return any(
        key.startswith("switch_inline_query")
        for row in markup.get("inline_keyboard") or []
        for button in row
        for key in button
    )


def _check_invoice(params: JSON) -> tuple[str, str, int]:
    title = str(params.get("title") or "")
    description = str(params.get("description") or "")
    payload = str(params.get("payload") or "")
    if not 1 <= len(title) <= 32:
        raise _ApiError(400, "Bad Request: INVOICE_TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise _ApiError(400, "Bad Request: INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(payload.encode()) <= 128:
        raise _ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
    prices = _json_param(params, "prices")
    if not isinstance(prices, list) or not prices:
        raise _ApiError(400, "Bad Request: prices must be a non-empty array")
    stars = params.get("currency") == "XTR"
    if stars and (params.get("provider_token") or len(prices) != 1):
        raise _ApiError(400, "Bad Request: STARS_INVOICE_INVALID")
    total = sum(int(price["amount"]) for price in prices)
    if total <= 0:
        raise _ApiError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
    return title, description, total


def _not_modified() -> _ApiError:
    return _ApiError(
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )


# --------------------------------------------------------------------------- encoding


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """Query string plus a JSON, urlencoded or multipart body, as Telegram accepts."""
    params: JSON = dict(request.query)
    files: dict[str, UploadedFile] = {}
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = bytes(await part.read())
            if part.filename is not None:
                kind = part.headers.get("Content-Type", "application/octet-stream")
                files[part.name] = UploadedFile(part.filename, kind, data)
            else:
                params[part.name] = data.decode()
        return params, files
    body = await request.read()
    if not body:
        return params, files
    if content_type == "application/json":
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            params.update(decoded)
    else:
        # yarl's C unquoting is ~50x faster than urllib's parse_qsl on non-Latin text, which
        # matters when the benchmark pushes a thousand messages a second through here.
        params.update(URL.build(query_string=body.decode(), encoded=True).query)
    return params, files


def _json_param(params: JSON, name: str) -> Any:
    """Structured parameters come JSON-encoded in forms and as objects in JSON bodies."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = _json_param(params, "scope") or {"type": "default"}
    key = str(scope.get("type", "default"))
    for part in ("chat_id", "user_id"):
        if part in scope:
            key += f":{scope[part]}"
    return key, str(params.get("language_code") or "")


def _member_json(
    status: str, can_post_messages: bool | None, is_anonymous: bool, rights: dict[str, bool]
) -> JSON:
    """A ChatMember body (without ``user``) with every field PTB requires for ``status``."""
    member: JSON = {"status": status}
    if status == "creator":
        member["is_anonymous"] = is_anonymous
    elif status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": is_anonymous})
        member.update({right: rights.get(right, True) for right in _ADMIN_RIGHTS})
        if can_post_messages is not None:
            member["can_post_messages"] = can_post_messages
            member["can_edit_messages"] = rights.get("can_edit_messages", can_post_messages)
    elif status == "restricted":
        member.update({"is_member": True, "until_date": 0})
        member.update({right: rights.get(right, False) for right in _RESTRICTED_RIGHTS})
    elif status == "kicked":
        member["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status: {status}")
    return member


def _gone_description(chat_type: str, status: str) -> str:
    """Telegram's 403 wording once the bot was blocked, kicked or left."""
    if chat_type == "private":
        return "Forbidden: bot was blocked by the user"
    if status == "kicked":
        return f"Forbidden: bot was kicked from the {chat_type} chat"
    return f"Forbidden: bot is not a member of the {chat_type} chat"


def _entity_json(entity: Entity) -> JSON:
    body: JSON = {"type": entity.type, "offset": entity.offset, "length": entity.length}
    if entity.url is not None:
        body["url"] = entity.url
    if entity.language is not None:
        body["language"] = entity.language
    if entity.custom_emoji_id is not None:
        body["custom_emoji_id"] = entity.custom_emoji_id
    return body


def _ok(result: Any) -> web.Response:
    body = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
    return web.Response(body=body, content_type="application/json")


def _error(err: _ApiError) -> web.Response:
    body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return web.Response(
        body=json.dumps(body).encode(), status=err.status, content_type="application/json"
    )


# --------------------------------------------------------------------------- PTB helper


def ptb_bot(
    api: FakeBotAPI,
    session: aiohttp.ClientSession | None = None,
    *,
    read_timeout: float | None = 5.0,
) -> telegram.Bot:
    """A real ``telegram.Bot`` talking to ``api`` through :class:`AiohttpRequest`.

    Both request objects (calls and long polling) share ``session`` when one is given.
    """
    return telegram.Bot(
        api.token,
        base_url=f"{api.base_url}/bot",
        request=AiohttpRequest(session, read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(session, read_timeout=read_timeout),
    )
