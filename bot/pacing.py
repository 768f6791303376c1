"""Telegram's speed limits as one pure component (DESIGN.md decision 3).

- the whole bot: ``rate`` messages per second (30, or up to 1000 with paid broadcasts);
- one private chat: at most one message per second;
- one group or channel: at most 20 messages per minute;
- a 429's ``retry_after`` pauses every send.

Time is passed in (monotonic seconds) so the rules are tested without sleeping.
Replies to commands draw on the same global budget without waiting
(``take_for_reply``): broadcasts then yield to them, and the sum stays within the limit.
Per-chat state is pruned as it ages, so memory does not grow with the audience.
"""

from __future__ import annotations

from collections import OrderedDict, deque

PRIVATE_INTERVAL = 1.0
GROUP_WINDOW = 60.0
GROUP_LIMIT = 20
_EPSILON = 0.001  # keeps float rounding from landing a send exactly on a window edge


class Pacer:
    def __init__(
        self,
        rate: float,
        *,
        private_interval: float = PRIVATE_INTERVAL,
        group_window: float = GROUP_WINDOW,
        group_limit: int = GROUP_LIMIT,
        burst_seconds: float = 0.05,
        burst_fraction: float = 0.02,
        headroom: float = 0.02,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # Aim a little under the limit: requests reach Telegram with network and scheduling
        # jitter, and a few arriving early must not add up to a 429 in its one-second window.
        self.interval = 1.0 / (rate * (1.0 - headroom))
        self.private_interval = private_interval
        self.group_window = group_window
        self.group_limit = group_limit
        # How far the global schedule may lag behind "now" (a late wake-up is made up for):
        # at most ``burst_fraction`` of a second's messages (half a message at least) and
        # ``burst_seconds``. With the headroom above, no one-second window holds more than
        # the nominal rate, and Telegram's own tolerance is left for network jitter.
        self._slack = min(burst_seconds, max(0.5, burst_fraction * rate) * self.interval)
        self._next_global = 0.0
        self._paused_until = 0.0
        self._private: OrderedDict[str, float] = OrderedDict()
        self._groups: OrderedDict[str, deque[float]] = OrderedDict()

    # ---- global budget ---------------------------------------------------------------

    def global_delay(self, now: float) -> float:
        """Seconds to wait before the next broadcast message may go."""
        start = max(self._next_global, now - self._slack, self._paused_until)
        return max(0.0, start - now)

    def take_for_reply(self, now: float) -> None:
        """A reply goes now; the broadcast schedule moves back by one slot."""
        self._next_global = max(self._next_global, now - self._slack) + self.interval

    def pause(self, until: float) -> None:
        """Telegram asked us to wait (429): nothing is sent before ``until``."""
        self._paused_until = max(self._paused_until, until)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    # ---- per chat --------------------------------------------------------------------

    @staticmethod
    def is_private(kind: str) -> bool:
        return kind == "private"

    def chat_ready_at(self, chat_key: str, kind: str, now: float) -> float:
        """Earliest time a message to this chat stays within its own limit."""
        if self.is_private(kind):
            last = self._private.get(chat_key)
            return now if last is None else max(now, last + self.private_interval + _EPSILON)
        sent = self._groups.get(chat_key)
        if not sent:
            return now
        while sent and sent[0] <= now - self.group_window:
            sent.popleft()
        if len(sent) < self.group_limit:
            return now
        return max(now, sent[0] + self.group_window + _EPSILON)

    def commit(self, chat_key: str, kind: str, now: float) -> None:
        """Record a broadcast message leaving now (global slot plus per-chat use)."""
        start = max(self._next_global, now - self._slack, self._paused_until)
        self._next_global = start + self.interval
        self.note_chat(chat_key, kind, now)

    def note_chat(self, chat_key: str, kind: str, now: float) -> None:
        if self.is_private(kind):
            self._private[chat_key] = now
            self._private.move_to_end(chat_key)
        else:
            sent = self._groups.setdefault(chat_key, deque())
            sent.append(now)
            self._groups.move_to_end(chat_key)
        self._prune(now)

    def _prune(self, now: float) -> None:
        while self._private:
            key, at = next(iter(self._private.items()))
            if at > now - self.private_interval:
                break
            del self._private[key]
        while self._groups:
            key, times = next(iter(self._groups.items()))
            if times and times[-1] > now - self.group_window:
                break
            del self._groups[key]

    def tracked_chats(self) -> int:
        """How many chats the pacer currently remembers (for tests of flat memory)."""
        return len(self._private) + len(self._groups)


def drain_seconds(
    rows: int,
    rate: float,
    *,
    busiest_private: int = 0,
    busiest_group: int = 0,
    private_interval: float = PRIVATE_INTERVAL,
    group_window: float = GROUP_WINDOW,
    group_limit: int = GROUP_LIMIT,
) -> float:
    """How long sending ``rows`` takes at best: the global rate, or the busiest chat's limit.

    One article to many readers is bound by the global rate; many articles to one chat
    by that chat's own limit (1/s private, 20/min groups), whichever is slower.
    """
    if rows <= 0:
        return 0.0
    by_rate = rows / rate
    by_private = max(0, busiest_private - 1) * private_interval
    by_group = (max(0, busiest_group - 1) // group_limit) * group_window
    return max(by_rate, by_private, by_group)
