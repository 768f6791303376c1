"""Whatever a user sends, no handler raises: property-based over update shapes.

Updates are built as Telegram's JSON, parsed by PTB and fed to the real application
(``process_update``) with every handler registered, talking to the fake Bot API.
Callback data is random text, or correctly signed for the sender with actions and
arguments the screens never issue (out-of-range indexes, unknown chats).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ContextTypes

from bot.app import assemble
from bot.callbacks import CallbackSigner
from bot.text.utf16 import utf16_len
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI, _member_json

JSON = dict[str, Any]

LANGS = st.sampled_from([None, "en", "ru", "ka", "hy", "az", "de", "en-US", ""])
TEXTS = st.one_of(
    st.sampled_from(
        [
            "/start",
            "/start georgia-ru",
            "/start armenia",
            "/start nowhere-xx",
            "/start " + "a" * 64,
            "/settings",
            "/stop",
            "/channels",
            "/help",
            "/mostread",
            "/donate",
            "/unknown",
            "/start@newsbot_test_bot",
            "hello",
        ]
    ),
    st.text(min_size=1, max_size=50),
    st.builds(lambda a: "/start " + a, st.text(max_size=70)),
)
ACTIONS = st.sampled_from(
    [
        "sO",
        "sD",
        "sR",
        "sL",
        "sM",
        "sT",
        "sQ",
        "sS",
        "sE",
        "sZ",
        "cR",
        "cL",
        "cD",
        "cM",
        "cE",
        "cP",
        "cU",
        "cX",
        "cY",
        "cB",
        "zz",
    ]
)
ARGS = st.lists(
    st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["s", "m", "r", "i", "d", "on"])),
    max_size=3,
)
STATUSES = st.sampled_from(["creator", "administrator", "member", "left", "kicked", "restricted"])


def user_json(uid: int, lang: str | None) -> JSON:
    user: JSON = {"id": uid, "is_bot": False, "first_name": "U"}
    if lang is not None:
        user["language_code"] = lang
    return user


def member_json(status: str, can_post: bool | None) -> JSON:
    member = _member_json(status, can_post, False, {})
    if status == "restricted":  # PTB 22 requires it; the fake does not add it yet
        member["can_react_to_messages"] = False
    return member


@st.composite
def chats(draw: st.DrawFn, uid: int) -> JSON:
    kind = draw(st.sampled_from(["private", "group", "supergroup", "channel"]))
    if kind == "private":
        return {"id": uid, "type": "private", "first_name": "U"}
    cid = draw(st.sampled_from([-4001, -1002000000001, -1003000000001]))
    return {"id": cid, "type": kind, "title": draw(st.text(min_size=1, max_size=20))}


@st.composite
def updates(draw: st.DrawFn, signer: CallbackSigner, bot_user: JSON) -> JSON:
    uid = draw(st.sampled_from([7001, 7002, 9001]))
    user = user_json(uid, draw(LANGS))
    chat = draw(chats(uid))
    shape = draw(st.sampled_from(["message", "callback", "shared", "member", "migrate"]))
    message: JSON = {"message_id": draw(st.integers(1, 50)), "date": 0, "chat": chat}
    if chat["type"] != "channel":
        message["from"] = user
    if shape == "message":
        text = draw(TEXTS)
        message["text"] = text
        if text.startswith("/"):
            length = utf16_len(text.split()[0]) if text.split() else 1
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if draw(st.booleans()):
            message["message_thread_id"] = draw(st.integers(1, 100))
            message["is_topic_message"] = True
        key = "channel_post" if chat["type"] == "channel" else "message"
        return {"update_id": 1, key: message}
    if shape == "callback":
        if draw(st.booleans()):
            data = draw(st.text(min_size=1, max_size=64))
        else:
            data = signer.sign(uid, chat["id"], draw(ACTIONS), *draw(ARGS))
        message["from"] = bot_user
        message["text"] = "screen"
        query = {"id": "1", "from": user, "chat_instance": "c", "data": data, "message": message}
        return {"update_id": 1, "callback_query": query}
    if shape == "shared":
        shared = {
            "request_id": draw(st.integers(0, 3)),
            "chat_id": draw(st.integers(-(2**52), 2**52)),
        }
        private = {"id": uid, "type": "private", "first_name": "U"}
        return {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": private,
                "from": user,
                "chat_shared": shared,
            },
        }
    if shape == "migrate":
        message["migrate_to_chat_id"] = draw(st.integers(-(2**52), -1))
        return {"update_id": 1, "message": message}
    new = {"user": bot_user, **member_json(draw(STATUSES), draw(st.booleans()))}
    old = {"user": bot_user, **member_json(draw(STATUSES), None)}
    change = {"chat": chat, "from": user, "date": 0, "old_chat_member": old, "new_chat_member": new}
    return {"update_id": 1, "my_chat_member": change}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_no_update_raises(data: st.DataObject) -> None:
    errors: list[BaseException] = []

    async def collect(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            errors.append(context.error)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'h.db'}"
        async with FakeBotAPI(enforce_limits=False) as api:
            settings_ = make_settings(api, url)
            async with assemble(settings_, make_catalog([]), dry_run=False) as parts:
                app = parts.application
                assert app is not None
                app.add_error_handler(collect)
                await app.initialize()
                try:
                    signer = CallbackSigner(settings_.signing_key())
                    batch = data.draw(
                        st.lists(updates(signer, api.bot_user), min_size=1, max_size=8)
                    )
                    for number, raw in enumerate(batch, start=1):
                        raw["update_id"] = number
                        if "callback_query" in raw:
                            raw["callback_query"]["id"] = str(number)
                        await app.process_update(Update.de_json(raw, app.bot))
                finally:
                    await app.shutdown()
    assert errors == []
