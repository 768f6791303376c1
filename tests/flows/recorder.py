"""What the bot sent, step by step: messages (text and buttons) as a reader sees them.

A :class:`Recorder` drives the running bot through the fake Bot API (a message, a button
tap) and waits until the bot has handled the update and sent what it queued; each step's
messages, in their final state (after edits), become a screen of docs/flows.md.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.app import Parts
from bot.storage.inbox import count_pending
from tests.fakes.botapi import JSON, FakeBotAPI, SentMessage

SETTLE_WITHIN = 30.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Screen:
    """A message the bot sent (``where`` it went when not the user's own chat), a notice
    Telegram showed for a tap, or a line of prose between screens."""

    text: str
    kind: str = "message"  # "message", "notice" or "prose"
    where: str = ""


@dataclass(slots=True)
class Step:
    """One heading of the document (``level`` 2 opens a part): prose, then the screens."""

    heading: str
    prose: str = ""
    screens: list[Screen] = field(default_factory=list)
    level: int = 3


def render(message: SentMessage) -> str:
    """The message as text, then its buttons: ``[Inline]`` and ``⟦Keyboard⟧`` rows."""
    lines = [message.plain_text.rstrip()]
    if message.method.lower() == "sendinvoice":
        lines = [f"(Invoice) {message.plain_text}"]
    elif message.method.lower() == "sendphoto" and not message.plain_text:
        lines = ["(picture)"]
    markup: dict[str, Any] = message.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        lines.append("  ".join(f"[{button['text']}]" for button in row))
    for row in markup.get("keyboard", []):
        lines.append("  ".join(f"⟦{_label(button)}⟧" for button in row))
    return "\n".join(lines)


def _label(button: Any) -> str:
    return str(button["text"] if isinstance(button, dict) else button)


class Recorder:
    """Sends updates to the running bot and records what came back."""

    def __init__(self, api: FakeBotAPI, parts: Parts, lang: str) -> None:
        self.api = api
        self.parts = parts
        self.lang = lang
        self.steps: list[Step] = []
        self.actor = 0  # the chat of the user who acted last: their screens are shown
        self.places: dict[int, str] = {}  # other chats whose messages are shown, and how
        self._seen = 0
        self._answers = 0

    def section(self, heading: str) -> None:
        self.steps.append(Step(heading, level=2))

    def step(self, heading: str, prose: str = "") -> None:
        log.info("flows (%s): %s", self.lang, heading)
        self.steps.append(Step(heading, prose.strip()))

    def note(self, text: str) -> None:
        """Prose after the screens of the current step."""
        self.steps[-1].screens.append(Screen(text.strip(), "prose"))

    async def settle(self) -> None:
        """Until every pushed update is handled and what it queued is sent."""
        api = self.api
        await api.wait_for(lambda: api.pending_updates == 0, within=SETTLE_WITHIN)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WITHIN
        while True:
            async with self.parts.sessions() as session:
                if await count_pending(session) == 0:
                    break
            if loop.time() > deadline:
                raise TimeoutError("the bot did not handle its updates")
            await asyncio.sleep(0.05)
        await self.parts.sender.drain(within=SETTLE_WITHIN)

    async def capture(self) -> None:
        """Everything the bot sent or edited since the last capture in the actor's chat
        and in the named :attr:`places`, as screens (in their state after edits); notices
        Telegram showed for taps."""
        await self.settle()
        fresh = self.api.sent[self._seen :]
        self._seen = len(self.api.sent)
        shown: dict[tuple[int, int], None] = {}
        for message in fresh:
            if message.chat_id == self.actor or message.chat_id in self.places:
                shown.setdefault((message.chat_id, message.message_id), None)
        screens = self.steps[-1].screens
        answers = list(self.api.callback_answers.values())[self._answers :]
        self._answers = len(self.api.callback_answers)
        for answer in answers:
            if answer.get("text"):
                screens.append(Screen(str(answer["text"]), "notice"))
        for chat_id, message_id in shown:
            current = self.api.message(chat_id, message_id)
            if current is not None:
                where = "" if chat_id == self.actor else self.places[chat_id]
                screens.append(Screen(render(current), where=where))

    def skip(self) -> None:
        """Forget what was sent so far (set-up steps the document does not show)."""
        self._seen = len(self.api.sent)
        self._answers = len(self.api.callback_answers)

    async def say(
        self, user: int, text: str, chat: int | None = None, thread: int | None = None
    ) -> None:
        """``user`` sends ``text`` (in a group ``chat``, in a forum topic ``thread``)."""
        self.actor = chat or user
        extra = None
        if thread is not None:
            opened = self.api.topics[(chat or user, thread)]
            extra = {"is_topic_message": True, "reply_to_message": opened}
        self.api.push_message(
            chat or user,
            user,
            text,
            language_code=self.lang,
            message_thread_id=thread,
            extra=extra,
        )
        await self.settle()

    async def answer(self, user: int, text: str) -> None:
        """``user`` answers the bot's latest message, as Telegram sends a reply."""
        self.actor = user
        prompt = self._latest(user)
        replied = {
            "message_id": prompt.message_id,
            "from": self.api.bot_user,
            "chat": {"id": user, "type": "private", "first_name": "Reader"},
            "date": 0,
            "text": prompt.plain_text,
        }
        self.api.push_message(
            user, user, text, language_code=self.lang, extra={"reply_to_message": replied}
        )
        await self.settle()

    async def topic_created(self, chat: int, user: int, thread: int, name: str) -> None:
        """A forum topic is opened (its id is Telegram's, whatever ``thread`` asks)."""
        opened = self.api.push_forum_topic_created(chat, user, name)
        self.api.topics[(chat, thread)] = self.api.topics[(chat, opened)]
        await self.settle()

    async def inline(self, user: int, query: str, chat: int) -> None:
        """``user`` types ``@bot <query>`` in ``chat`` and picks the first result; the
        list of results is recorded as a screen."""
        query_id = self.api.push_inline_query(user, query, language_code=self.lang)
        await self.api.wait_for(lambda: query_id in self.api.inline_answers, within=SETTLE_WITHIN)
        answer = self.api.inline_answers[query_id]
        listing = [f"@bot {query}"] + [
            f"  {result['title']} — {result.get('description', '')}".rstrip(" —")
            for result in answer.results
        ]
        self.actor = user
        self.steps[-1].screens.append(Screen("\n".join(listing), where="Inline results"))
        card = self.api.choose_inline_result(query_id, str(answer.results[0]["id"]), chat_id=chat)
        where = "In the chat, the story picked (Telegram posts it from the bot's answer)"
        self.steps[-1].screens.append(Screen(render(card), where=where))
        await self.settle()

    def _latest(self, chat: int) -> SentMessage:
        mine = [m for m in self.api.sent if m.chat_id == chat]
        message = self.api.message(chat, mine[-1].message_id)
        assert message is not None
        return message

    def _buttons(self, chat: int) -> tuple[SentMessage, list[list[JSON]]]:
        message = self._latest(chat)
        assert message.reply_markup is not None, message.plain_text
        return message, message.reply_markup.get("inline_keyboard", [])

    async def tap(self, user: int, label: str, chat: int | None = None) -> None:
        """Tap the button labelled ``label`` under the bot's latest message in the chat."""
        chat = chat or user
        message, rows = self._buttons(chat)
        found = {b["text"]: b.get("callback_data") for row in rows for b in row}
        assert found.get(label), f"no button {label!r} in {sorted(found)}"
        await self._press(user, chat, message, str(found[label]))

    async def _press(self, user: int, chat: int, message: SentMessage, data: str) -> None:
        self.actor = chat
        self.api.push_callback_query(
            user, data, chat_id=chat, message_id=message.message_id, language_code=self.lang
        )
        await self.settle()
