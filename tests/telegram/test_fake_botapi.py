"""FakeBotAPI driven by a real python-telegram-bot ``Bot`` over AiohttpRequest.

The point of these tests is that the fake answers like Telegram where our code depends on
it: accepted messages are recorded, bad HTML and oversize texts are refused with
Telegram's errors, flood limits produce 429 with ``retry_after``, blocked and migrated
chats produce PTB's ``Forbidden`` and ``ChatMigrated``, and long polling behaves.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.telegram.request import AiohttpRequest
from tests.fakes.botapi import FakeBotAPI, ptb_bot
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.filterwarnings(
    # PTB reads the deprecated int form of retry_after itself while building RetryAfter.
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(clock=clock) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with ptb_bot(api) as client:
        yield client


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def post_raw(api: FakeBotAPI, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Call the fake without PTB, to send shapes PTB would not build."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.api_url}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# --------------------------------------------------------------------------- messages


async def test_send_message_is_recorded_and_answered_like_telegram(
    api: FakeBotAPI, bot: telegram.Bot, clock: FakeClock
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Read more", url="https://jam-news.net/a"),
                InlineKeyboardButton("Donate", callback_data="donate:en"),
            ]
        ]
    )
    first = await bot.send_message(
        42, "<b>Tbilisi</b> news", parse_mode="HTML", reply_markup=markup
    )
    api.set_chat(-1001, "channel", title="News")
    await bot.send_message(-1001, "channel post")
    clock.advance(1.0)
    second = await bot.send_message(42, "again")

    assert bot.username == "newsbot_test_bot"
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.text == "Tbilisi news"
    assert first.entities[0].type == "bold" and first.entities[0].length == 7
    assert first.reply_markup == markup
    assert [m.chat_id for m in api.sent] == [42, -1001, 42]
    sent = api.sent[0]
    assert (sent.text, sent.plain_text, sent.parse_mode) == (
        "<b>Tbilisi</b> news",
        "Tbilisi news",
        "HTML",
    )
    assert sent.reply_markup is not None
    assert sent.reply_markup["inline_keyboard"][0][1]["callback_data"] == "donate:en"
    assert sent.method == "sendMessage"
    assert [r.method for r in api.requests] == [
        "getMe",
        "sendMessage",
        "sendMessage",
        "sendMessage",
    ]
    assert api.messages_to(42)[1].text == "again"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>unclosed", "can't parse entities: can't find end tag"),
        ("Tom & Jerry", "can't parse entities"),
        ("<p>para</p>", 'unsupported start tag "p"'),
        ("x" * 4097, "message is too long"),
        ("😀" * 2049, "message is too long"),
        ("<b> </b>", "message text is empty"),
    ],
)
async def test_invalid_messages_are_rejected(
    api: FakeBotAPI, bot: telegram.Bot, text: str, error: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(7, text, parse_mode="HTML")
    assert error in caught.value.message.lower()
    assert api.sent == []
    assert api.requests[-1].status == 400


async def test_lengths_are_counted_after_parsing(api: FakeBotAPI, bot: telegram.Bot) -> None:
    await bot.send_message(7, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(8, "😀" * 2048)
    assert [len(m.plain_text) for m in api.sent] == [4096, 2048]


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "x", "callback_data": "d" * 65}, "BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": ""}, "BUTTON_DATA_INVALID"),
        ({"text": "x", "url": "javascript:alert(1)"}, "Wrong HTTP URL"),
        ({"text": "x", "url": "https://a.b", "callback_data": "d"}, "text buttons are unallowed"),
        ({"text": "x"}, "text buttons are unallowed"),
    ],
)
async def test_bad_inline_buttons_are_rejected(
    api: FakeBotAPI, button: dict[str, Any], error: str
) -> None:
    markup = {"inline_keyboard": [[button]]}
    status, body = await post_raw(
        api, "sendMessage", json={"chat_id": 5, "text": "hi", "reply_markup": markup}
    )
    assert status == 400
    assert error in body["description"]
    assert api.sent == []


async def test_json_and_urlencoded_bodies_are_accepted(api: FakeBotAPI) -> None:
    markup = {"inline_keyboard": [[{"text": "Open", "url": "tg://resolve?domain=x"}]]}
    status, body = await post_raw(
        api,
        "sendMessage",
        json={"chat_id": 5, "text": "<i>a</i>", "parse_mode": "HTML", "reply_markup": markup},
    )
    assert status == 200 and body["ok"] is True
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 1}]
    status, body = await post_raw(
        api, "sendMessage", data={"chat_id": "6", "text": "b", "reply_markup": json.dumps(markup)}
    )
    assert status == 200
    assert [m.reply_markup for m in api.sent] == [markup, markup]


async def test_unknown_method_and_wrong_token(api: FakeBotAPI) -> None:
    status, body = await post_raw(api, "sendTelepathy", json={})
    assert (status, body["description"]) == (404, "Not Found")
    bad = telegram.Bot("1:wrong", base_url=f"{api.base_url}/bot", request=AiohttpRequest())
    with pytest.raises(InvalidToken):
        await bad.initialize()
    await bad.shutdown()


async def test_send_photo_uploads_multipart(api: FakeBotAPI, bot: telegram.Bot) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    message = await bot.send_photo(
        9, image, caption="<b>Map</b>", parse_mode="HTML", filename="map.png"
    )
    assert message.caption == "Map"
    assert message.photo[0].file_size == len(image)
    upload = api.calls("sendPhoto")[0].files["photo"]
    assert (upload.filename, upload.data) == ("map.png", image)
    assert api.sent[-1].method == "sendPhoto"
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(10, image, caption="c" * 1025)


# --------------------------------------------------------------------------- editing


async def test_edit_and_delete(api: FakeBotAPI, bot: telegram.Bot) -> None:
    original = await bot.send_message(3, "draft")
    edited = await bot.edit_message_text("<i>final</i>", 3, original.message_id, parse_mode="HTML")
    assert isinstance(edited, telegram.Message) and edited.text == "final"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("<i>final</i>", 3, original.message_id, parse_mode="HTML")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", url="https://x.org")]])
    await bot.edit_message_reply_markup(3, original.message_id, reply_markup=markup)
    current = api.message(3, original.message_id)
    assert current is not None
    assert (current.plain_text, current.reply_markup) == ("final", markup.to_dict())
    assert [m.method for m in api.sent] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]

    assert await bot.delete_message(3, original.message_id) is True
    assert api.deleted == [(3, original.message_id)]
    with pytest.raises(BadRequest, match="to edit not found"):
        await bot.edit_message_text("again", 3, original.message_id)
    with pytest.raises(BadRequest, match="to delete not found"):
        await bot.delete_message(3, original.message_id)


# --------------------------------------------------------------------------- limits


async def test_second_message_to_a_private_chat_in_the_same_instant_gets_429() -> None:
    clock = FakeClock()
    async with FakeBotAPI(clock=clock) as api, ptb_bot(api) as bot:
        await bot.send_message(11, "one")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(11, "two")
        assert retry_after_seconds(caught.value) == 1
        await bot.send_message(12, "another chat is fine")
        clock.advance(0.5)
        with pytest.raises(RetryAfter):  # still inside the penalty
            await bot.send_message(11, "three")
        clock.advance(0.6)
        await bot.send_message(11, "after a second")
        body = api.requests[2]
        assert body.status == 429
    assert api.limit_violations == 2
    assert [v.scope for v in api.violations] == ["private", "private"]
    assert [m.text for m in api.messages_to(11)] == ["one", "after a second"]


async def test_group_limit_is_twenty_per_minute() -> None:
    clock = FakeClock()
    async with FakeBotAPI(clock=clock) as api, ptb_bot(api) as bot:
        for i in range(20):
            await bot.send_message(-100500, f"post {i}")
            clock.advance(0.5)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(-100500, "21st")
        # The first post leaves the minute window 60 s after it was sent.
        assert retry_after_seconds(caught.value) == 50
    assert api.violations[0].scope == "group"


async def test_global_rate_and_paid_broadcast() -> None:
    clock = FakeClock()
    limited = FakeBotAPI(clock=clock, global_rate=5, global_burst=0, paid_rate=50)
    async with limited as api, ptb_bot(api) as bot:
        for chat_id in range(1, 6):
            await bot.send_message(chat_id, "free")
        with pytest.raises(RetryAfter):
            await bot.send_message(6, "sixth in the same second")
        clock.advance(1.0)
        for chat_id in range(100, 140):
            await bot.send_message(chat_id, "paid", allow_paid_broadcast=True)
    assert api.limit_violations == 1
    assert api.violations[0].scope == "global"
    assert api.peak_rate() == 40
    assert api.max_rate_per_chat() == 1


async def test_the_global_limit_counts_requests_when_they_arrive_not_when_handled() -> None:
    """Telegram counts a request when it arrives. Five arrive, then five more a little
    over a second later; their handlers all run at once (a busy server): no 429."""
    clock = FakeClock()
    limited = FakeBotAPI(clock=clock, global_rate=5, global_burst=0)
    async with limited as api, ptb_bot(api) as bot:
        api.hold("sendMessage")
        sends = [asyncio.create_task(bot.send_message(i, "first")) for i in range(1, 6)]
        await api.wait_for(lambda: len(api.calls("sendMessage")) == 5)
        clock.advance(1.05)
        sends += [asyncio.create_task(bot.send_message(i, "second")) for i in range(6, 11)]
        await api.wait_for(lambda: len(api.calls("sendMessage")) == 10)
        api.release("sendMessage")
        await asyncio.gather(*sends)
    assert api.limit_violations == 0
    assert api.windows_over(5) == 0
    assert len(api.sent) == 10


async def test_limits_can_be_switched_off() -> None:
    async with FakeBotAPI(enforce_limits=False) as api, ptb_bot(api) as bot:
        await asyncio.gather(*(bot.send_message(1, f"m{i}") for i in range(5)))
    assert api.limit_violations == 0
    assert api.max_rate_per_chat() == 5


async def test_achieved_rate_reflects_send_times() -> None:
    clock = FakeClock()
    async with FakeBotAPI(clock=clock) as api, ptb_bot(api) as bot:
        for chat_id in range(1, 11):
            await bot.send_message(chat_id, "x")
            clock.advance(0.1)
    assert api.achieved_rate() == pytest.approx(10.0)


# --------------------------------------------------------------------------- failures


async def test_blocked_chat_raises_forbidden(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.block_chat(21)
    api.block_chat(-22, "Forbidden: bot was kicked from the channel chat")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(21, "hi")
    with pytest.raises(Forbidden, match="kicked from the channel"):
        await bot.send_message(-22, "hi")
    api.unblock_chat(21)
    await bot.send_message(21, "welcome back")
    assert [m.chat_id for m in api.sent] == [21]


async def test_migrated_group_raises_chat_migrated(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.migrate_chat(-555, -1000000000555)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-555, "hi")
    assert caught.value.new_chat_id == -1000000000555
    message = await bot.send_message(caught.value.new_chat_id, "hi")
    assert message.chat.type == "supergroup"


async def test_fail_next_injects_errors_then_recovers(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    api.fail_next("*", 429, "Too Many Requests: retry after 3", retry_after=3)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(1, "x")
    with pytest.raises(RetryAfter) as caught:
        await bot.get_chat(1)
    assert retry_after_seconds(caught.value) == 3
    await bot.send_message(1, "x")
    assert len(api.sent) == 1
    assert api.limit_violations == 0, "injected failures are not limit violations"


async def test_delayed_answer_times_out_but_the_message_was_sent(api: FakeBotAPI) -> None:
    api.delay("sendMessage", 1.0)
    async with ptb_bot(api, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(1, "maybe")
    assert [m.text for m in api.sent] == ["maybe"]


# --------------------------------------------------------------------------- updates


async def test_get_updates_delivers_pushed_updates(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.push_message(42, 42, "/start georgia-en", language_code="ka", username="reader")
    api.push_message(-100777, 43, "hello group", chat_type="supergroup")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 2
    start = updates[0].message
    assert start is not None and start.from_user is not None
    assert (start.text, start.chat.type, start.from_user.language_code) == (
        "/start georgia-en",
        "private",
        "ka",
    )
    assert start.entities[0].type == "bot_command" and start.entities[0].length == 6
    assert updates[1].effective_chat is not None
    assert updates[1].effective_chat.type == "supergroup"

    assert api.pending_updates == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert api.pending_updates == 0


async def test_long_poll_waits_then_times_out_empty(api: FakeBotAPI, bot: telegram.Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 2.0


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    api: FakeBotAPI, bot: telegram.Bot
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    api.push_message(1, 1, "hi")
    updates = await polling
    assert [u.message.text for u in updates if u.message] == ["hi"]
    assert loop.time() - started < 1.5


async def test_chat_member_updates_need_to_be_asked_for(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.push_update({"chat_member": {"note": "not delivered by default"}})
    api.push_my_chat_member(-100900, 5, "administrator", title="Caucasus", can_post_messages=True)
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    change = updates[0].my_chat_member
    assert change is not None
    assert change.chat.type == "channel" and change.chat.title == "Caucasus"
    assert change.new_chat_member.status == "administrator"
    member = await bot.get_chat_member(-100900, bot.id)
    assert isinstance(member, telegram.ChatMemberAdministrator)
    assert member.can_post_messages is True


async def test_membership_changes_decide_whether_the_bot_may_write(
    api: FakeBotAPI, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.push_my_chat_member(-100901, 5, "administrator", can_post_messages=False)
    with pytest.raises(BadRequest, match="Need administrator rights"):
        await bot.send_message(-100901, "post")
    api.push_my_chat_member(-100901, 5, "administrator", "administrator", can_post_messages=True)
    await bot.send_message(-100901, "post")
    api.push_my_chat_member(-100901, 5, "left", "administrator")
    with pytest.raises(Forbidden, match="not a member of the channel chat"):
        await bot.send_message(-100901, "post")

    api.push_my_chat_member(31, 31, "kicked", "member", chat_type="private")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(31, "hi")
    api.push_my_chat_member(31, 31, "member", "kicked", chat_type="private")
    clock.advance(1.0)
    await bot.send_message(31, "welcome back")
    updates = await bot.get_updates(timeout=0)
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "administrator",
        "administrator",
        "left",
        "kicked",
        "member",
    ]
    assert [m.chat_id for m in api.sent] == [-100901, 31]


async def test_channel_posts_are_signed_by_the_channel(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.set_chat(-100950, "channel", title="Feed")
    api.push_message(-100950, 5, "/mostread")
    (update,) = await bot.get_updates(timeout=0)
    post = update.channel_post
    assert post is not None and post.sender_chat is not None
    assert (post.sender_chat.id, post.from_user) == (-100950, None)


async def test_callback_queries_and_their_answers(api: FakeBotAPI, bot: telegram.Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="sub:ge")]])
    sent = await bot.send_message(8, "Subscribe?", reply_markup=markup)
    api.push_callback_query(8, "sub:ge")
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.data, query.message.message_id) == ("sub:ge", sent.message_id)
    assert await bot.answer_callback_query(query.id, text="Done") is True
    assert api.callback_answers[query.id]["text"] == "Done"
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query(query.id)


# --------------------------------------------------------------------------- chats and commands


async def test_chat_members_and_administrators(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.set_chat(-100300, "channel", title="JAMnews", username="jamnews_georgia")
    api.set_member(-100300, 70, "creator")
    api.set_member(-100300, 71, "administrator", can_post_messages=False)
    api.set_member(-100300, 72, "member")
    chat = await bot.get_chat("@jamnews_georgia")
    assert (chat.id, chat.type, chat.title) == (-100300, "channel", "JAMnews")
    admins = await bot.get_chat_administrators(-100300)
    assert sorted(a.user.id for a in admins) == [70, 71]
    member = await bot.get_chat_member(-100300, 71)
    assert isinstance(member, telegram.ChatMemberAdministrator)
    assert member.can_post_messages is False
    assert (await bot.get_chat_member(-100300, 99)).status == "left"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat("@nobody_here")


async def test_commands_are_kept_per_language_and_scope(api: FakeBotAPI, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    await bot.set_my_commands([("start", "Начать")], language_code="ru")
    await bot.set_my_commands(
        [("mostread", "Most read")], scope=telegram.BotCommandScopeAllPrivateChats()
    )
    assert api.commands_for() == [("start", "Start"), ("help", "Help")]
    assert api.commands_for("ru") == [("start", "Начать")]
    assert api.commands_for(scope="all_private_chats") == [("mostread", "Most read")]
    ru = await bot.get_my_commands(language_code="ru")
    assert [(c.command, c.description) for c in ru] == [("start", "Начать")]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])


async def test_webhook_mode_and_delivery(api: FakeBotAPI, bot: telegram.Bot) -> None:
    received: list[tuple[str, dict[str, Any]]] = []

    async def webhook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        received.append((secret, await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/telegram"))
        assert await bot.set_webhook(url, secret_token="s3cret") is True
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        api.push_message(1, 1, "/help")
        assert await api.deliver_webhook() == [200]
    finally:
        await server.close()
    assert received[0][0] == "s3cret"
    assert received[0][1]["message"]["text"] == "/help"
    assert api.pending_updates == 0
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


# --------------------------------------------------------------------------- payments


async def test_stars_payment_flow(api: FakeBotAPI, bot: telegram.Bot) -> None:
    invoice = await bot.send_invoice(
        77, "Donate", "Support the newsroom", "donate:250", "XTR", [LabeledPrice("Stars", 250)]
    )
    assert invoice.invoice is not None and invoice.invoice.total_amount == 250
    with pytest.raises(BadRequest, match=r"(?i)stars_invoice_invalid"):
        await bot.send_invoice(
            78, "Donate", "x", "p", "XTR", [LabeledPrice("a", 1), LabeledPrice("b", 2)]
        )

    api.push_pre_checkout_query(77, 250, "donate:250")
    (update,) = await bot.get_updates(timeout=0)
    query = update.pre_checkout_query
    assert query is not None and query.invoice_payload == "donate:250"
    assert await bot.answer_pre_checkout_query(query.id, ok=True) is True
    assert api.pre_checkout_answers[query.id]["ok"] is True  # a JSON body: a real boolean

    api.push_successful_payment(77, 250, "donate:250", telegram_payment_charge_id="ch1")
    updates = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    payment = updates[0].message.successful_payment if updates[0].message else None
    assert payment is not None and payment.telegram_payment_charge_id == "ch1"
    assert await bot.refund_star_payment(77, "ch1") is True
    with pytest.raises(BadRequest, match=r"(?i)charge_already_refunded"):
        await bot.refund_star_payment(77, "ch1")
    assert api.refunds == [(77, "ch1")]


async def test_chat_shared_arrives_as_a_message(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.push_chat_shared(5, request_id=1, shared_chat_id=-100123, title="My channel")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.chat_shared is not None
    assert (update.message.chat_shared.chat_id, update.message.chat_shared.title) == (
        -100123,
        "My channel",
    )


async def test_wait_for_sent_wakes_on_new_messages(api: FakeBotAPI, bot: telegram.Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(1, "late")

    task = asyncio.create_task(later())
    sent = await api.wait_for_sent(1, within=2.0)
    await task
    assert sent[0].text == "late"
    with pytest.raises(TimeoutError):
        await api.wait_for_sent(2, within=0.2)


async def test_wait_for_also_polls_state_outside_the_server(api: FakeBotAPI) -> None:
    flag: list[bool] = []
    asyncio.get_running_loop().call_later(0.1, flag.append, True)
    await api.wait_for(lambda: bool(flag), within=1.0)
    assert flag == [True]
