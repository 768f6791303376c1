"""The broadcast request: what TelegramPublisher puts into sendMessage."""

from __future__ import annotations

import json
from typing import Any

from bot.domain import Button, RenderedMessage
from bot.outbox.queue import Delivery
from bot.telegram.publisher import TelegramPublisher, markup_json, ready_parameters


def delivery(**changes: Any) -> Delivery:
    values: dict[str, Any] = {
        "id": 1,
        "attempts": 0,
        "plain_text": False,
        "chat_pk": 1,
        "address": "-1001000000001",
        "thread_id": 0,
        "chat_kind": "channel",
        "chat_language": "en",
        "article_id": 7,
        "title": "Title",
        "url": "https://o.example/7",
        "summary": "Summary.",
        "regions": ("georgia",),
    }
    values.update(changes)
    return Delivery(**values)


MESSAGE = RenderedMessage(
    text="<b>Title</b>",
    buttons=(
        (Button("Read more", url="https://o.example/7"),),
        (Button("Tap", callback_data="d:1"),),
    ),
)


def publisher(paid: bool) -> TelegramPublisher:
    return TelegramPublisher(None, None, paid_broadcast=paid)  # type: ignore[arg-type]


def test_html_post_with_buttons_in_a_channel() -> None:
    params = publisher(False).params(delivery(), MESSAGE)
    assert params["chat_id"] == -1001000000001
    assert params["parse_mode"] == "HTML"
    assert json.loads(params["reply_markup"]) == {
        "inline_keyboard": [
            [{"text": "Read more", "url": "https://o.example/7"}],
            [{"text": "Tap", "callback_data": "d:1"}],
        ]
    }
    assert json.loads(params["link_preview_options"]) == {"is_disabled": False}
    assert "allow_paid_broadcast" not in params and "message_thread_id" not in params


def test_plain_text_resend_to_a_topic_with_paid_broadcast() -> None:
    plain = delivery(plain_text=True, address="@channel", thread_id=42)
    params = publisher(True).params(plain, RenderedMessage("Title", disable_preview=True))
    assert "parse_mode" not in params and "reply_markup" not in params
    assert params["chat_id"] == "@channel" and params["message_thread_id"] == 42
    assert params["allow_paid_broadcast"] is True
    assert json.loads(params["link_preview_options"]) == {"is_disabled": True}


def test_keyboard_json_is_built_once_per_keyboard() -> None:
    markup_json.cache_clear()
    for _ in range(3):
        markup_json(MESSAGE.buttons)
    assert markup_json.cache_info().hits == 2


def test_ready_parameters_reach_the_backend_as_given() -> None:
    params = {"chat_id": 42, "text": "Привет", "reply_markup": '{"a":1}', "allow_paid": True}
    data = ready_parameters(params)
    assert data.parameters == params  # what AiohttpRequest encodes as the JSON body
    assert not data.contains_files
    assert data.json_parameters == {  # the form a urlencoding backend would send
        "chat_id": "42",
        "text": "Привет",
        "reply_markup": '{"a":1}',
        "allow_paid": "true",
    }
