"""The durable send queue: claiming due deliveries and recording what happened.

Life of a row (DESIGN.md decisions 1-2):

    pending/retry --claim--> inflight --outcome--> sent | retry | unknown | dead | dropped
              (or --claim--> claimed, only reserved)

The sender reserves a batch as ``claimed`` and marks each wave ``inflight`` in the
transaction just before it leaves, so a crash turns at most that wave into ``unknown``:
those rows are never re-sent, because a duplicate post is worse than a rare miss.
``claimed`` rows are only reserved; a crash puts them back to pending. Rows the sender
could not fire are given back (``release``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.outbox.kinds import POST

DUE_STATES = ("pending", "retry")
OPEN_STATES = ("pending", "retry", "claimed")
MAX_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class Delivery:
    """Everything needed to render and send one outbox row (a post, or another kind:
    ``bot.outbox.kinds``)."""

    id: int
    attempts: int
    plain_text: bool
    chat_pk: int
    address: str
    thread_id: int
    chat_kind: str
    chat_language: str
    article_id: int
    title: str
    url: str
    summary: str
    regions: tuple[str, ...]
    hide_appeals: bool = False  # the reader hid donation appeals
    alternates: str = ""  # the article's other language versions, JSON [[language, url], ...]
    image_url: str = ""  # the article's lead image, "" when none
    breaking: bool = False
    photos: bool = False  # the chat takes posts as photos (channels and groups that allow it)
    no_photo: bool = False  # Telegram refused the image once: text only
    link_preview: str = "auto"  # auto | off | small | large | above
    silent_at_night: bool = False
    pin: bool = False  # a breaking post this chat pins
    sent_as_photo: bool = False  # for corrections: the message is a photo with a caption
    kind: str = POST  # post | digest | weekly | alert | edit | delete | pin
    body: str = ""  # the ready text of a digest, a weekly list or an alert
    target_message_id: int | None = None  # the message an edit, deletion or pin acts on
    target_state: str = ""  # that post's outbox state ("" when it is no longer stored)

    @property
    def chat_key(self) -> str:
        return f"{self.address}:{self.thread_id}"


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None
    photo: bool = False  # sent as a photo with a caption (corrections edit the caption)


@dataclass(frozen=True, slots=True)
class Retry:
    """Not delivered and safe to try again (Telegram said so, or nothing was sent)."""

    error: str
    after: float | None = None  # seconds; None = exponential backoff
    pause_all: bool = False  # a 429: every send waits ``after``


@dataclass(frozen=True, slots=True)
class Unknown:
    """The request may have reached Telegram but no answer came: never re-sent."""

    error: str


@dataclass(frozen=True, slots=True)
class Dead:
    """Permanently refused for this message (bad request): reported to editors."""

    error: str


@dataclass(frozen=True, slots=True)
class ChatGone:
    """The chat blocked us, was deleted or kicked us: stop sending there."""

    error: str


@dataclass(frozen=True, slots=True)
class Migrated:
    """A group became a supergroup: continue at ``new_address``."""

    new_address: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing left to do: the message to edit is unchanged or gone, or was never sent."""

    error: str


@dataclass(frozen=True, slots=True)
class ResendAsPlainText:
    """Telegram could not parse our HTML: send once more as plain text, and report."""

    error: str


@dataclass(frozen=True, slots=True)
class ResendWithoutPhoto:
    """Telegram could not fetch or use the lead image: send once more as text."""

    error: str


Outcome = (
    Sent
    | Retry
    | Unknown
    | Dead
    | ChatGone
    | Migrated
    | ResendAsPlainText
    | ResendWithoutPhoto
    | Skipped
)


def backoff_seconds(attempts: int, jitter: float) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds (capped at 10 min), with jitter in [0, 1)."""
    base: float = min(600.0, 2.0 ** max(1, attempts))
    return base * (0.75 + 0.5 * jitter)


@dataclass(frozen=True, slots=True)
class Applied:
    """What recording an outcome changed, for metrics and alerts."""

    state: str
    chat_deactivated: bool = False
    dropped: int = 0


BACKLOG_STATES = ("pending", "retry", "claimed", "inflight")


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is still to send, for operators: counts, timing and the busiest chats."""

    by_state: dict[tuple[str, int], int]  # (state, priority) -> rows not yet finished
    due_now: int  # open rows whose time has come
    next_later: datetime | None  # when the first row scheduled for later becomes due
    busiest_private: int  # most open rows waiting for one private chat
    busiest_group: int  # most open rows waiting for one group or channel
    unknown: int  # rows whose fate is unknown (all time)
    dead: int  # dead letters (all time)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())
