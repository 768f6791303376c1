"""How a post goes out: photo or text, which link preview, ringing or silent (pure rules)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain import RenderedMessage
from bot.outbox.postform import caption_fits, is_night, post_form, preview_json
from bot.outbox.queue import Delivery
from bot.outbox.render import CAPTION_LIMIT

IMAGE = "https://o.example/lead.jpg"


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
        "image_url": IMAGE,
        "photos": True,
    }
    values.update(changes)
    return Delivery(**values)


def html_of_visible(units: int) -> RenderedMessage:
    """A post whose visible text is ``units`` UTF-16 units, with a lot of markup around."""
    text = '<b><a href="https://o.example/a-very-long-link/' + "x" * 300 + '">T</a></b>\n\n'
    body = "&amp;" * (units - 3)  # each entity is one unit once parsed
    return RenderedMessage(text=text + body)


def test_a_post_that_fits_a_caption_goes_out_as_a_photo() -> None:
    message = html_of_visible(CAPTION_LIMIT)
    assert len(message.text) > CAPTION_LIMIT  # the HTML is longer; what Telegram counts is not
    form = post_form(delivery(), message, night=False)
    assert form.photo == IMAGE and not form.silent


def test_one_unit_over_the_caption_limit_is_text_with_a_large_preview_of_the_image() -> None:
    form = post_form(delivery(), html_of_visible(CAPTION_LIMIT + 1), night=False)
    assert form.photo == ""
    assert json.loads(form.preview) == {"url": IMAGE, "prefer_large_media": True}


def test_astral_characters_count_two_units_as_telegram_counts_them() -> None:
    emoji = RenderedMessage(text="𝕏" * 512)
    assert caption_fits(emoji, plain_text=False)
    assert not caption_fits(RenderedMessage(text="𝕏" * 513), plain_text=False)
    # plain text is measured as it is: "<b>" is three visible characters there
    assert not caption_fits(RenderedMessage(text="<b>" * 342), plain_text=True)
    assert caption_fits(RenderedMessage(text="<b>" * 342), plain_text=False)


def test_no_photo_without_an_image_in_private_chats_or_after_a_refusal() -> None:
    message = RenderedMessage(text="Short post")
    assert post_form(delivery(image_url=""), message, night=False).photo == ""
    assert post_form(delivery(photos=False), message, night=False).photo == ""
    refused = post_form(delivery(no_photo=True), message, night=False)
    assert refused.photo == "" and json.loads(refused.preview) == {"is_disabled": False}


def test_link_preview_settings() -> None:
    expected = {
        "auto": {"is_disabled": False},
        "off": {"is_disabled": True},
        "small": {"prefer_small_media": True},
        "large": {"prefer_large_media": True},
        "above": {"show_above_text": True},
    }
    for setting, options in expected.items():
        assert json.loads(preview_json(setting)) == options
    assert json.loads(preview_json("above", IMAGE)) == {
        "url": IMAGE,
        "prefer_large_media": True,
        "show_above_text": True,
    }
    assert json.loads(preview_json("off", IMAGE)) == {"is_disabled": True}
    small = post_form(
        delivery(image_url="", link_preview="small"), RenderedMessage("x"), night=False
    )
    assert json.loads(small.preview) == {"prefer_small_media": True}


def test_silent_at_night_only_when_asked_and_never_for_breaking_news() -> None:
    message = RenderedMessage(text="Short post")
    assert post_form(delivery(silent_at_night=True), message, night=True).silent
    assert not post_form(delivery(silent_at_night=True), message, night=False).silent
    assert not post_form(delivery(), message, night=True).silent
    breaking = delivery(silent_at_night=True, breaking=True)
    assert not post_form(breaking, message, night=True).silent


def test_night_is_the_regions_local_quiet_hours() -> None:
    # 20:30 UTC is 00:30 in Tbilisi (UTC+4) and 20:30 in London in winter
    at = datetime(2026, 12, 2, 20, 30)
    assert is_night(at, "Asia/Tbilisi")
    assert not is_night(at, "Europe/London")
    assert not is_night(datetime(2026, 12, 2, 4, 30), "Asia/Tbilisi")  # 08:30 there
