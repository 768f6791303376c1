"""AiohttpRequest driven by a real ``telegram.Bot`` against a scripted local server.

The server here is deliberately minimal and scripted per test (status, body, delay), so
each test pins one behaviour of the transport: what PTB sees for each kind of answer or
failure, how the body is encoded, and who closes the session.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.telegram.request import AiohttpRequest, ConnectionNotSent, NotSentTimedOut

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "News", "username": "news_test_bot"}

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


@dataclass
class Received:
    """What the server saw for one call: method name, content type, fields and files."""

    method: str
    content_type: str
    user_agent: str
    fields: dict[str, str]
    files: dict[str, tuple[str | None, str, bytes]] = field(default_factory=dict)


@dataclass
class ScriptedServer:
    """A Bot API look-alike whose answer per method is set by the test."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)

    def ok(self, method: str, result: Any) -> None:
        """Answer ``method`` with ``{"ok": true, "result": result}``."""

        async def handler(_request: web.Request, _fields: dict[str, Any]) -> web.Response:
            return web.json_response({"ok": True, "result": result})

        self.handlers[method] = handler

    def error(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Answer ``method`` with a Bot API error body."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters

        async def handler(_request: web.Request, _fields: dict[str, Any]) -> web.Response:
            return web.json_response(body, status=status)

        self.handlers[method] = handler

    def slow(self, method: str, seconds: float, result: Any = True) -> None:
        """Answer ``method`` only after ``seconds``."""

        async def handler(_request: web.Request, _fields: dict[str, Any]) -> web.Response:
            await asyncio.sleep(seconds)
            return web.json_response({"ok": True, "result": result})

        self.handlers[method] = handler

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Record the call, then run the scripted handler (404 when none)."""
        record = await _read_body(request)
        self.received.append(record)
        handler = self.handlers.get(record.method)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return await handler(request, record.fields)


async def _read_body(request: web.Request) -> Received:
    """Decode a form, multipart or JSON body into fields and files."""
    record = Received(
        method=request.match_info["method"],
        content_type=request.content_type,
        user_agent=request.headers.get("User-Agent", ""),
        fields={},
    )
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            assert isinstance(part, aiohttp.BodyPartReader)
            data = await part.read()
            name = part.name or ""
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "")
                record.files[name] = (part.filename, content_type, bytes(data))
            else:
                record.fields[name] = bytes(data).decode()
    elif request.content_type == "application/json":
        # As Telegram reads JSON: a string is taken as is, anything else as its JSON text.
        record.fields = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()
        }
    else:
        record.fields = {k: str(v) for k, v in (await request.post()).items()}
    return record


@asynccontextmanager
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    """Run a ScriptedServer on a free loopback port for the duration of the block."""
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", scripted.dispatch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    scripted.url = str(server.make_url("")).rstrip("/")
    scripted.ok("getMe", BOT_USER)
    try:
        yield scripted
    finally:
        await server.close()


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening, so connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def message_json(chat_id: int, text: str, message_id: int = 1) -> dict[str, Any]:
    """A minimal Message object as the Bot API returns it."""
    return {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Reader"},
        "from": BOT_USER,
        "text": text,
    }


def make_bot(
    url: str, request: AiohttpRequest, updates: AiohttpRequest | None = None
) -> telegram.Bot:
    """A real PTB Bot whose both request objects are aiohttp-backed."""
    return telegram.Bot(
        TOKEN,
        base_url=f"{url}/bot",
        request=request,
        get_updates_request=updates or AiohttpRequest(),
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` is an int or a timedelta depending on PTB settings."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_and_send_message_reach_the_server() -> None:
    async with scripted_server() as server:
        server.ok("sendMessage", message_json(42, "Привет <b>мир</b>", message_id=77))
        markup = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Read", url="https://example.org/a")]]
        )
        async with make_bot(server.url, AiohttpRequest()) as bot:
            assert bot.username == "news_test_bot"
            sent = await bot.send_message(
                42, "Привет <b>мир</b>", parse_mode="HTML", reply_markup=markup
            )

    assert sent.message_id == 77
    call = server.received[-1]
    assert call.method == "sendMessage"
    assert call.content_type == "application/json"  # cheaper to encode than a form
    assert call.user_agent.startswith("python-telegram-bot")
    assert call.fields["chat_id"] == "42"
    assert call.fields["text"] == "Привет <b>мир</b>"
    assert call.fields["parse_mode"] == "HTML"
    buttons = json.loads(call.fields["reply_markup"])["inline_keyboard"]
    assert buttons == [[{"text": "Read", "url": "https://example.org/a"}]]


async def test_send_document_uploads_file_intact() -> None:
    payload = bytes(range(256)) * 300 + "конец".encode()
    async with scripted_server() as server:
        document = {"file_id": "F1", "file_unique_id": "U1", "file_name": "report.bin"}
        server.ok("sendDocument", {**message_json(7, ""), "document": document})
        async with make_bot(server.url, AiohttpRequest()) as bot:
            await bot.send_document(
                7, document=payload, filename="report.bin", caption="Weekly <i>report</i>"
            )

    call = server.received[-1]
    assert call.method == "sendDocument"
    assert call.content_type == "multipart/form-data"
    assert call.fields["chat_id"] == "7"
    assert call.fields["caption"] == "Weekly <i>report</i>"
    (filename, _content_type, content) = call.files["document"]
    assert filename == "report.bin"
    assert content == payload


@pytest.mark.parametrize(
    ("status", "description", "parameters", "expected"),
    [
        (403, "Forbidden: bot was blocked by the user", {}, Forbidden),
        (400, "Bad Request: can't parse entities: unclosed tag", {}, BadRequest),
        (502, "Bad Gateway", {}, NetworkError),
    ],
)
async def test_error_statuses_map_to_ptb_exceptions(
    status: int, description: str, parameters: dict[str, Any], expected: type[Exception]
) -> None:
    async with scripted_server() as server:
        server.error("sendMessage", status, description, **parameters)
        async with make_bot(server.url, AiohttpRequest()) as bot:
            with pytest.raises(expected) as caught:
                await bot.send_message(1, "x")
    # PTB drops the "Bad Request: " style prefix but keeps the rest of the description.
    assert description.split(": ")[-1] in str(caught.value)
    assert not isinstance(caught.value, ConnectionNotSent)


# PTB itself reads the deprecated int form of retry_after while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_raises_retry_after_with_its_delay() -> None:
    async with scripted_server() as server:
        server.error("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        async with make_bot(server.url, AiohttpRequest()) as bot:
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(1, "x")
    assert retry_after_seconds(caught.value) == 7


async def test_migrated_group_raises_chat_migrated() -> None:
    async with scripted_server() as server:
        server.error(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001234567890,
        )
        async with make_bot(server.url, AiohttpRequest()) as bot:
            with pytest.raises(ChatMigrated) as caught:
                await bot.send_message(-100, "x")
    assert caught.value.new_chat_id == -1001234567890


async def test_slow_server_times_out_with_instance_default() -> None:
    async with scripted_server() as server:
        server.slow("sendMessage", 2.0, message_json(1, "x"))
        async with make_bot(server.url, AiohttpRequest(read_timeout=0.2)) as bot:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(TimedOut) as caught:
                await bot.send_message(1, "x")
            elapsed = loop.time() - started
    assert elapsed < 1.5
    assert not isinstance(caught.value, ConnectionNotSent), "a read timeout is 'unknown'"


async def test_per_call_read_timeout_overrides_default() -> None:
    async with scripted_server() as server:
        server.slow("sendMessage", 0.4, message_json(1, "x", message_id=5))
        request = AiohttpRequest(read_timeout=0.1)
        assert request.read_timeout == 0.1
        async with make_bot(server.url, request) as bot:
            sent = await bot.send_message(1, "x", read_timeout=3.0)
            with pytest.raises(TimedOut):
                await bot.send_message(1, "x")
    assert sent.message_id == 5


async def test_refused_connection_is_not_sent() -> None:
    with refusing_port() as port:
        request = AiohttpRequest(connect_timeout=2.0)
        bot = make_bot(f"http://127.0.0.1:{port}", request)
        async with request:
            with pytest.raises(ConnectionNotSent) as caught:
                await bot.send_message(1, "x")
    assert isinstance(caught.value, NetworkError)
    assert not isinstance(caught.value, TimedOut)
    assert caught.value.message.startswith("Connection refused")


async def test_dropped_connection_is_a_network_error_but_not_not_sent() -> None:
    async def hang_up(request: web.Request, _fields: dict[str, Any]) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response()

    async with scripted_server() as server:
        server.handlers["sendMessage"] = hang_up
        async with make_bot(server.url, AiohttpRequest()) as bot:
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(1, "x")
    assert not isinstance(caught.value, ConnectionNotSent)
    assert "aiohttp." in caught.value.message


async def test_pool_exhaustion_times_out_as_not_sent() -> None:
    async with scripted_server() as server:
        server.slow("sendMessage", 1.0, message_json(1, "x"))
        request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1, read_timeout=3.0)
        async with request:
            bot = make_bot(server.url, request)
            occupying = asyncio.create_task(bot.send_message(1, "first"))
            await asyncio.sleep(0.2)
            with pytest.raises(NotSentTimedOut) as caught:
                await bot.send_message(1, "second")
            await occupying
    assert isinstance(caught.value, TimedOut)
    assert isinstance(caught.value, ConnectionNotSent)
    assert caught.value.message.startswith("Pool timeout")
    assert [r.fields["text"] for r in server.received if r.method == "sendMessage"] == ["first"]


async def test_two_instances_share_one_session_which_survives_shutdown() -> None:
    async with scripted_server() as server:
        server.slow("getUpdates", 0.3, [])
        server.ok("sendMessage", message_json(1, "x"))
        async with aiohttp.ClientSession() as session:
            main, updates = AiohttpRequest(session), AiohttpRequest(session, read_timeout=0.1)
            bot = make_bot(server.url, main, updates)
            async with bot:
                # PTB adds the long-polling timeout to the read timeout of the updates request.
                polled, sent = await asyncio.gather(
                    bot.get_updates(timeout=1), bot.send_message(1, "x")
                )
            assert polled == ()
            assert sent.message_id == 1
            assert main.session is session and updates.session is session
            assert not session.closed
            assert not main.owns_session
    methods = [r.method for r in server.received]
    assert "getUpdates" in methods and "sendMessage" in methods


async def test_owned_session_is_closed_on_shutdown_and_recreated() -> None:
    async with scripted_server() as server:
        request = AiohttpRequest()
        assert request.owns_session
        bot = make_bot(server.url, request)
        async with bot:
            first = request.session
            assert first is not None and not first.closed
        assert first.closed
        with pytest.raises(NetworkError, match="not initialized"):
            await bot.get_me()
        async with bot:
            assert request.session is not first
            assert (await bot.get_me()).username == "news_test_bot"


async def test_default_timeouts_fall_back_to_instance_values() -> None:
    request = AiohttpRequest(
        read_timeout=1.5, write_timeout=2.0, connect_timeout=3.0, pool_timeout=0.5
    )
    default = request._resolve_timeout(
        False,
        AiohttpRequest.DEFAULT_NONE,
        AiohttpRequest.DEFAULT_NONE,
        AiohttpRequest.DEFAULT_NONE,
        AiohttpRequest.DEFAULT_NONE,
    )
    assert (default.sock_read, default.sock_connect, default.connect, default.total) == (
        1.5,
        3.0,
        3.5,
        7.0,
    )
    upload = request._resolve_timeout(
        True,
        AiohttpRequest.DEFAULT_NONE,
        AiohttpRequest.DEFAULT_NONE,
        None,
        AiohttpRequest.DEFAULT_NONE,
    )
    assert (upload.sock_read, upload.sock_connect, upload.connect, upload.total) == (
        1.5,
        None,
        None,
        None,
    )
