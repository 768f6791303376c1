"""Property: whatever users of any role do, in any order, only the rights that matter count.

Each example gives six users random roles in one channel and one group (creator, admin
with the right that matters, admin without it, member, left, stranger) and marks one of
them as an operator; then it plays a random sequence of what users can do: pick a chat
in the picker, ``/settings`` in the group, ``/channels``, tap any button the bot has
shown anyone, and operator commands in private or in the group. Updates go through the
real application (``process_update``) to the Bot API fake.

Afterwards:
- every configuration change in the audit log was made by someone with the right for
  that chat (everyone else's attempts are logged as ``refused``);
- a chat nobody entitled touched has no configuration, and a channel nobody entitled
  configured received nothing;
- no message outside the operator's private chat carries operator output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from telegram import Update
from telegram.ext import Application

from bot.app import assemble
from bot.storage.models import AuditRow, ChatRow
from tests.audience.support import NOON
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

CHANNEL = -1002000000001
GROUP = -1003000000001
USERS = (9101, 9102, 9103, 9104, 9105, 9106)
ROLES = ("creator", "admin_with_right", "admin_without_right", "member", "left", "stranger")
ENTITLED = {"creator", "admin_with_right"}
OPERATOR_COMMANDS = ("/queue", "/donations", "/stats", "/refund stx1")
# Words only operator answers contain (see handlers/operator.py, payments.py, bot/stats.py).
OPERATOR_OUTPUT = (
    "Outbox backlog",
    "No donations yet",
    "donations:",
    "No donation with",
    "Stars received",
)

Action = tuple[Any, ...]

ACTIONS = st.one_of(
    st.tuples(st.just("share"), st.sampled_from(USERS), st.sampled_from([CHANNEL, GROUP])),
    st.tuples(st.just("settings"), st.sampled_from(USERS)),
    st.tuples(st.just("channels"), st.sampled_from(USERS)),
    st.tuples(st.just("tap"), st.sampled_from(USERS), st.integers(0, 200)),
    st.tuples(
        st.just("op"),
        st.sampled_from(USERS),
        st.sampled_from(OPERATOR_COMMANDS),
        st.booleans(),
    ),
)


def grant(api: FakeBotAPI, chat: int, user: int, role: str) -> None:
    """The membership ``role`` means in this chat (rights: post in channels, info in groups)."""
    if role == "stranger":
        return
    if role in ("creator", "member", "left"):
        api.set_member(chat, user, role)
        return
    entitled = role == "admin_with_right"
    if chat == CHANNEL:
        api.set_member(chat, user, "administrator", can_post_messages=entitled)
    else:
        api.set_member(chat, user, "administrator", can_change_info=entitled)


def buttons_shown(api: FakeBotAPI) -> list[tuple[int, int, str]]:
    """Every callback button the bot has shown anywhere: (chat, message id, data)."""
    found = []
    for method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
        for record in api.calls(method):
            markup = record.params.get("reply_markup")
            if not isinstance(markup, dict):
                continue
            chat, message_id = int(record.params["chat_id"]), record.params.get("message_id")
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if "callback_data" in button:
                        found.append((chat, int(message_id or 0), button["callback_data"]))
    return found


def update_for(api: FakeBotAPI, action: Action) -> dict[str, Any] | None:
    kind, user = action[0], action[1]
    if kind == "share":
        return api.push_chat_shared(user, 1 if action[2] == CHANNEL else 2, action[2])
    if kind == "settings":
        return api.push_message(GROUP, user, "/settings")
    if kind == "channels":
        return api.push_message(user, user, "/channels")
    if kind == "op":
        where = GROUP if action[3] else user
        return api.push_message(where, user, action[2])
    shown = buttons_shown(api)
    if not shown:
        return None
    chat, message_id, data = shown[action[2] % len(shown)]
    return api.push_callback_query(user, data, chat_id=chat, message_id=message_id or None)


async def play(
    app: Application[Any, Any, Any, Any, Any, Any], api: FakeBotAPI, steps: list[Action]
) -> None:
    for number, action in enumerate(steps, start=1):
        raw = update_for(api, action)
        if raw is None:
            continue
        raw["update_id"] = number
        await app.process_update(Update.de_json(raw, app.bot))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    roles=st.tuples(*[st.sampled_from(ROLES) for _ in USERS]),
    group_roles=st.tuples(*[st.sampled_from(ROLES) for _ in USERS]),
    operator=st.sampled_from(USERS),
    steps=st.lists(ACTIONS, min_size=1, max_size=14),
)
async def test_only_entitled_users_configure_and_only_operators_see_operator_output(
    roles: tuple[str, ...], group_roles: tuple[str, ...], operator: int, steps: list[Action]
) -> None:
    channel_role = dict(zip(USERS, roles, strict=True))
    group_role = dict(zip(USERS, group_roles, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'p.db'}"
        async with FakeBotAPI(enforce_limits=False) as api:
            api.set_chat(CHANNEL, "channel", title="Channel")
            api.set_chat(GROUP, "supergroup", title="Group")
            bot_id = api.bot_user["id"]
            api.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)
            api.set_member(GROUP, bot_id, "member")
            for user in USERS:
                grant(api, CHANNEL, user, channel_role[user])
                grant(api, GROUP, user, group_role[user])
            settings_ = make_settings(api, url, admin_ids=str(operator))
            clock = FakeClock(NOON, runs=True)
            async with assemble(settings_, make_catalog([]), dry_run=False, clock=clock) as parts:
                app = parts.application
                assert app is not None
                await app.initialize()
                try:
                    await play(app, api, steps)
                finally:
                    await app.shutdown()
                async with parts.sessions() as session:
                    audit = list(await session.scalars(select(AuditRow)))
                    chats = {r.address: r for r in await session.scalars(select(ChatRow))}

    role_in = {str(CHANNEL): channel_role, str(GROUP): group_role}
    for row in audit:
        if row.action == "refused" or row.user_id is None:
            continue
        address = row.address or next((a for a, c in chats.items() if c.id == row.chat_id), "")
        assert role_in[address][row.user_id] in ENTITLED, (row.action, address, row.user_id)

    for chat, role_of in ((CHANNEL, channel_role), (GROUP, group_role)):
        touched_by_entitled = any(
            step[1] in role_of and role_of[step[1]] in ENTITLED for step in steps
        )
        if not touched_by_entitled:
            assert str(chat) not in chats
    if not any(channel_role[u] in ENTITLED for u in USERS):
        assert api.messages_to(CHANNEL) == []

    for record in api.calls("sendMessage"):
        if int(record.params["chat_id"]) == operator:
            continue
        text = str(record.params.get("text", ""))
        assert not any(marker in text for marker in OPERATOR_OUTPUT), text
