"""A Bot API call made for the publisher, and the one thing it keeps of the answer: the
message id.

Telegram answers a ``sendMessage`` with the whole message it created (chat, sender, text,
entities, keyboard: a kilobyte or two of JSON, more in Georgian or Armenian, whose text
is escaped), and the publisher keeps only ``message_id``, which Telegram writes first.
At 30 messages a second decoding that JSON was about a fifteenth of the sender's CPU
(``bench/fanout.py`` profiled with py-spy). A successful answer that starts as Telegram's
do is read up to its message id; every other answer (an error, a result that is not a
message, a body shaped otherwise) is read by python-telegram-bot's own ``BaseRequest.post``,
so errors are the exceptions they always were (``RetryAfter``, ``Forbidden``,
``ChatMigrated`` ...).
"""

from __future__ import annotations

import re
from typing import Any, Final

from telegram.error import NetworkError, TelegramError
from telegram.request import BaseRequest, RequestData

__all__ = ["call_for_message_id", "sent_message_id"]

# {"ok":true,"result":{"message_id":123, ... (Telegram's key order; spaces allowed).
_SENT_MESSAGE: Final = re.compile(
    rb'\s*\{\s*"ok"\s*:\s*true\s*,\s*"result"\s*:\s*\{\s*"message_id"\s*:\s*(\d{1,19})\s*[,}]'
)


class _Answered(BaseRequest):
    """A request backend that "sends" by returning an answer already received, so that
    ``BaseRequest.post`` reads it exactly as it reads any other."""

    __slots__ = ("_answer",)

    def __init__(self, status: int, body: bytes) -> None:
        self._answer = (status, body)

    @property
    def read_timeout(self) -> float | None:
        """No waiting here."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """The answer given to the constructor."""
        return self._answer


def sent_message_id(body: bytes) -> int | None:
    """The message id of a successful answer written as Telegram writes one (``ok``, then
    ``result`` opening with ``message_id``); ``None`` for any other body."""
    sent = _SENT_MESSAGE.match(body)
    return None if sent is None else int(sent.group(1))


async def call_for_message_id(request: BaseRequest, url: str, data: RequestData) -> int | None:
    """POST ``data`` to ``url`` through ``request``; the message id of the result (``None``
    when the result is not a message, as for a pin), or the error as ``request.post``
    would raise it."""
    try:
        status, body = await request.do_request(url, "POST", request_data=data)
    except TelegramError:
        raise
    except Exception as exc:  # as BaseRequest.post: the answer is unknown, not refused
        raise NetworkError(f"Unknown error in HTTP implementation: {exc!r}") from exc
    if status == 200 and (message_id := sent_message_id(body)) is not None:
        return message_id
    result = await _Answered(status, body).post(url, data)
    raw = result.get("message_id") if isinstance(result, dict) else None
    return int(raw) if raw is not None else None
