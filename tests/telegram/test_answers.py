"""The publisher's calls keep only the message id of an answer: read from the head of a
successful answer shaped as Telegram's, and by python-telegram-bot's own code otherwise,
so that every error is still the exception it always was."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import BaseRequest, RequestData

from bot.telegram.answers import call_for_message_id, sent_message_id
from bot.telegram.lean import LeanRequest
from bot.telegram.publisher import ready_parameters
from bot.telegram.request import AiohttpRequest
from tests.telegram.rawserver import raw_server
from tests.telegram.test_request import TOKEN

GEORGIAN = 'თბილისში დღეს "ახალი" ამბები'  # quotes, escaped in the answer's JSON


def telegram_answer(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def compact(result: Any) -> bytes:
    """An answer as Telegram writes it: no spaces, ``message_id`` first."""
    return json.dumps({"ok": True, "result": result}, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (compact({"message_id": 77, "text": GEORGIAN}), 77),
        (b'{"ok": true, "result": {"message_id": 5, "date": 1}}', 5),  # spaced, as json.dumps
        (b'{"ok":true,"result":{"message_id":9}}', 9),
        (b'  {\n"ok" : true ,\n"result" : {\n"message_id" : 12345678901 }}', 12345678901),
        (b'{"ok":true,"result":{"date":1,"message_id":9}}', None),  # not first: the slow way
        (b'{"ok":true,"result":true}', None),
        (b'{"ok":false,"error_code":400,"description":"message_id: 3"}', None),
        (b'{"result":{"message_id":9},"ok":true}', None),
        (b'{"ok":true,"result":{"message_id":"9"}}', None),
        (b'{"ok":true,"result":{"message_id":9x}}', None),
        (b"", None),
    ],
)
def test_only_a_success_written_as_telegram_writes_it_is_read_at_its_head(
    body: bytes, expected: int | None
) -> None:
    assert sent_message_id(body) == expected


def scripted(status: int, body: bytes) -> Any:
    async def answer(_number: int, _request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(telegram_answer(status, body))
        return True

    return answer


def post_data(chat_id: int = 42) -> RequestData:
    return ready_parameters({"chat_id": chat_id, "text": GEORGIAN, "parse_mode": "HTML"})


async def call(request: BaseRequest, status: int, body: bytes) -> int | None:
    async with raw_server(scripted(status, body)) as server:
        await request.initialize()
        try:
            url = f"{server.url}/bot{TOKEN}/sendMessage"
            return await call_for_message_id(request, url, post_data())
        finally:
            await request.shutdown()


@pytest.fixture(params=["lean", "aiohttp"])
async def request_backend(request: pytest.FixtureRequest) -> Any:
    async with aiohttp.ClientSession() as session:
        yield LeanRequest(session) if request.param == "lean" else AiohttpRequest(session)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, compact({"message_id": 77, "chat": {"id": 42}, "text": GEORGIAN}), 77),
        (200, compact({"date": 1, "message_id": 78}), 78),  # read by PTB
        (200, compact(True), None),  # a pin, a deletion: no message
    ],
)
async def test_the_message_id_of_any_successful_answer(
    request_backend: BaseRequest, status: int, body: bytes, expected: int | None
) -> None:
    assert await call(request_backend, status, body) == expected


def error(status: int, description: str, **parameters: Any) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "body", "raised", "text"),
    [
        (403, error(403, "Forbidden: bot was blocked by the user"), Forbidden, "blocked"),
        (429, error(429, "Too Many Requests", retry_after=7), RetryAfter, "0:00:07"),
        (400, error(400, "Bad Request", migrate_to_chat_id=-1009), ChatMigrated, ""),
        (400, error(400, "Bad Request: can't parse entities"), BadRequest, "parse entities"),
        (502, b"<html>Bad Gateway</html>", NetworkError, "Bad Gateway"),
        (200, b'{"ok":true,"result":{"message_id":', TelegramError, "Invalid server response"),
    ],
)
async def test_errors_are_python_telegram_bots_own(
    request_backend: BaseRequest, status: int, body: bytes, raised: type[Exception], text: str
) -> None:
    with pytest.raises(raised) as caught:
        await call(request_backend, status, body)
    assert text in str(caught.value)
    if raised is ChatMigrated:
        assert isinstance(caught.value, ChatMigrated) and caught.value.new_chat_id == -1009
    if raised is RetryAfter:
        assert isinstance(caught.value, RetryAfter)
        assert caught.value.retry_after == timedelta(seconds=7)


class _Broken(BaseRequest):
    """A transport with a bug: it raises something that is not a TelegramError."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        raise KeyError("bug")


async def test_a_transport_bug_is_an_unknown_answer_not_a_refusal() -> None:
    """As in ``BaseRequest.post``: the request may have left, so it must not be retried."""
    with pytest.raises(NetworkError, match="Unknown error in HTTP implementation"):
        await call_for_message_id(_Broken(), "http://127.0.0.1:9/botX/sendMessage", post_data())
