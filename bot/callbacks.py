"""Signed, bound callback data for inline buttons, and a small per-user rate limit.

Telegram hands ``callback_data`` back verbatim, and any client can send any string in
its place, so a button is only trusted when its signature checks out. The signature is
an HMAC over the action, its arguments, the issue time *and* the user and chat the
button was shown to: a button forwarded to (or forged by) someone else, altered, or
older than ``max_age`` verifies as ``None``, and the caller answers "this button has
expired" without touching anything.

Format (ASCII, at most 64 bytes as Telegram requires)::

    <action>[.<arg>...]~<issued, base36 minutes>~<signature, 11 base64url chars>

Actions and arguments are short tokens (``[A-Za-z0-9_-]``); anything longer, such as a
region code, is passed as an index into a list both sides know (the catalog).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_CALLBACK_BYTES", "Action", "CallbackSigner", "RateLimiter"]

MAX_CALLBACK_BYTES = 64
SIGNATURE_BYTES = 8  # 64 bits: forging one by guessing is out of reach
DEFAULT_MAX_AGE = 7 * 24 * 3600.0
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,24}\Z")
_SHAPE = re.compile(r"([A-Za-z0-9_.-]{1,40})~([0-9a-z]{1,8})~([A-Za-z0-9_-]{11})\Z")


@dataclass(frozen=True, slots=True)
class Action:
    """A verified button press: what to do, with which arguments."""

    name: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int | None:
        """Argument ``index`` as a non-negative integer, or None when absent or not a number."""
        if index >= len(self.args) or not self.args[index].isdigit():
            return None
        return int(self.args[index])


def _b36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if value == 0:
            return out


class CallbackSigner:
    """Makes and checks callback data bound to one user in one chat."""

    def __init__(
        self,
        key: bytes,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key:
            raise ValueError("the signing key must not be empty")
        self._key = hashlib.sha256(b"newsbot-callbacks:" + key).digest()
        self._max_age = max_age
        self._clock = clock

    def _mac(self, body: str, issued: str, user_id: int, chat_id: int) -> str:
        message = f"{body}~{issued}~{user_id}~{chat_id}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, user_id: int, chat_id: int, name: str, *args: str | int) -> str:
        """Callback data for ``name(*args)``, valid only for this user in this chat."""
        parts = [name, *(str(a) for a in args)]
        for part in parts:
            if not _TOKEN.match(part):
                raise ValueError(f"callback token {part!r} must match [A-Za-z0-9_-]{{1,24}}")
        body = ".".join(parts)
        if len(body) > 40:
            raise ValueError(f"callback action {body!r} is longer than 40 characters")
        issued = _b36(int(self._clock() // 60))
        data = f"{body}~{issued}~{self._mac(body, issued, user_id, chat_id)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data for {name!r} exceeds {MAX_CALLBACK_BYTES} bytes")
        return data

    def verify(self, data: str | None, user_id: int | None, chat_id: int | None) -> Action | None:
        """The action, or None when the data is malformed, forged, foreign or stale."""
        if not data or user_id is None or chat_id is None:
            return None
        match = _SHAPE.match(data)
        if match is None:
            return None
        body, issued, signature = match.groups()
        expected = self._mac(body, issued, user_id, chat_id)
        if not hmac.compare_digest(expected, signature):
            return None
        age = self._clock() - int(issued, 36) * 60
        if age > self._max_age or age < -120:
            return None
        name, *args = body.split(".")
        return Action(name, tuple(args))


class RateLimiter:
    """A token bucket per user, for configuration actions (taps, /settings, /channels).

    In memory and bounded: at most ``max_users`` buckets are kept, least recently used
    dropped first, so a flood of distinct users cannot grow it without limit. A user whose
    bucket was dropped simply starts again with a full one.
    """

    def __init__(
        self,
        *,
        burst: int = 15,
        per_second: float = 1.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = float(burst)
        self._rate = per_second
        self._max_users = max_users
        self._clock = clock
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()

    def allow(self, user_id: int) -> bool:
        """Take one token for ``user_id``; False when they are going too fast."""
        now = self._clock()
        tokens, last = self._buckets.pop(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[user_id] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._max_users:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)
