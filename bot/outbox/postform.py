"""How a post goes out in its chat: as a photo or as text, with which link preview, and
whether it rings.

Pure rules, decided per delivery from the rendered post and the chat's options:

- **Photo.** A channel or group that takes photos gets a post with a lead image as
  ``sendPhoto``, the post as its caption, when the caption fits Telegram's 1024 units
  (counted as Telegram counts them: UTF-16 units of the text after entity parsing). A
  longer post goes out as text with a large preview of the image instead, so no word is
  cut. An image Telegram refused once is not tried again (``no_photo``).
- **Link preview** (text posts): ``auto`` leaves it to Telegram, ``off`` hides it,
  ``small``/``large`` ask for that size, ``above`` shows it above the text.
- **Silence.** A chat with ``silent_at_night`` gets its posts without a notification
  sound during the region's night (:data:`bot.localtime.DEFAULT_QUIET`, local time);
  breaking news always rings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import RenderedMessage
from bot.localtime import DEFAULT_QUIET, quiet_until
from bot.outbox.clean import visible_length
from bot.outbox.queue import Delivery
from bot.outbox.render import CAPTION_LIMIT
from bot.text.utf16 import utf16_len

PREVIEW_CHOICES = ("auto", "off", "small", "large", "above")

# The usual preview options, JSON-encoded once (the sender posts them with every message).
_FIXED_PREVIEWS: dict[str, dict[str, Any]] = {
    "auto": {"is_disabled": False},
    "off": {"is_disabled": True},
    "small": {"prefer_small_media": True},
    "large": {"prefer_large_media": True},
    "above": {"show_above_text": True},
}
_FIXED_JSON = {name: json.dumps(value) for name, value in _FIXED_PREVIEWS.items()}


@dataclass(frozen=True, slots=True)
class PostForm:
    """``photo``: the image URL for ``sendPhoto`` ("" for ``sendMessage``); ``preview``:
    ``link_preview_options`` as JSON text (text posts only); ``silent``:
    ``disable_notification``."""

    photo: str
    preview: str
    silent: bool


def caption_fits(message: RenderedMessage, plain_text: bool) -> bool:
    """Whether the post fits a caption, measured after entity parsing as Telegram does."""
    length = utf16_len(message.text) if plain_text else visible_length(message.text)
    return length <= CAPTION_LIMIT


def preview_json(setting: str, image: str = "") -> str:
    """``link_preview_options`` for a chat's setting; with ``image``, a large preview of it."""
    if setting == "off" or not image:
        return _FIXED_JSON.get(setting, _FIXED_JSON["auto"])
    options: dict[str, Any] = {"url": image, "prefer_large_media": True}
    if setting == "above":
        options["show_above_text"] = True
    return json.dumps(options)


def is_night(now: datetime, timezone: str) -> bool:
    """Whether ``now`` (naive UTC) falls in the quiet hours of ``timezone``."""
    return quiet_until(now, timezone, *DEFAULT_QUIET) is not None


def post_form(d: Delivery, message: RenderedMessage, *, night: bool) -> PostForm:
    """How delivery ``d`` of ``message`` goes out; ``night``: the region's night now."""
    silent = d.silent_at_night and night and not d.breaking
    image = d.image_url if d.photos and not d.no_photo else ""
    if image and caption_fits(message, d.plain_text):
        return PostForm(photo=image, preview="", silent=silent)
    setting = "off" if message.disable_preview else d.link_preview
    return PostForm(photo="", preview=preview_json(setting, image), silent=silent)
