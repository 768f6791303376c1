"""Telegram's speed limits as one pure component (DESIGN.md decision 3).

- the whole bot: ``rate`` messages in any one-second window (30, or up to 1000 with paid
  broadcasts);
- one private chat: at most one message per second;
- one group or channel: at most 20 messages per minute;
- a 429's ``retry_after`` pauses every send.

Broadcast messages leave in short *bursts* (15 at a time at 30/s, 50 at 1000/s) instead
of one every 33 ms. Telegram counts messages per second, so a burst costs nothing against
the limit, and it costs the sender far less: one wake-up of the event loop and one
database transaction per burst instead of per message, with the CPU caches still warm.
(Here a bare aiohttp POST every 33 ms costs about 1 ms of CPU; fifteen at once twice a
second, about 0.3 ms each.)

Two rules together keep bursts within the limit:

- a token bucket refilled at the rate less a small ``headroom`` sets the pace; it holds a
  burst's worth (plus a few messages, so a late wake-up is made up, not lost);
- a window counts every send as Telegram does, at its arrival. A send takes its place when
  it is committed, and keeps it until ``1 s + reach`` after its request was written out
  (``written``; at the latest when its answer came back). Telegram counts a request when
  it arrives: after the moment the pacer let it go, and, allowing ``reach`` (15 ms) for
  the way there, no later than ``reach`` after it was written; so no one-second window of
  Telegram's can hold more than ``rate`` of them, even when a busy event loop or a new
  connection writes a burst out late. The answer's own latency (Telegram's processing,
  the way back) does not count against the rate: with answers taking 50 or 100 ms the
  pace is the same as with answers in a millisecond. The reach is kept below
  the bucket's headroom (15 ms against 20 ms a second), so the bucket sets the pace and
  its spare message makes up a burst that left a little late.

Time is passed in (monotonic seconds) so the rules are tested without sleeping.
Per-chat state is pruned as it ages, so memory does not grow with the audience.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from contextvars import ContextVar

PRIVATE_INTERVAL = 1.0
GROUP_WINDOW = 60.0
GROUP_LIMIT = 20
MAX_BURST = 50
BURSTS_PER_SECOND = 2
REACH = 0.015  # seconds a request may take from its start to its arrival at Telegram
MAX_MARGIN = 0.05  # seconds a loaded machine may add to the reach (``Pacer.late``)
_MARGIN_FADE = 0.9
_EPSILON = 0.001  # keeps float rounding from landing a send exactly on a window edge
_TOKEN_EPSILON = 1e-6  # a wake-up at the computed moment finds the token (or room) there
_AWAIT_WRITES = 0.005  # seconds to look again when room depends on requests not yet written

# Set around one send by whoever counted it in a pacer (a ``Stamp``); the HTTP layer
# calls it once the request is written out (``bot.telegram.request``).
REQUEST_WRITTEN: ContextVar[Callable[[], None] | None] = ContextVar("request_written", default=None)


def default_burst(rate: float) -> int:
    """Half a second's messages (15 at 30/s), at most ``MAX_BURST`` (50 at 1000/s)."""
    return max(1, min(MAX_BURST, math.ceil(rate / BURSTS_PER_SECOND)))


class Pacer:
    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        private_interval: float = PRIVATE_INTERVAL,
        group_window: float = GROUP_WINDOW,
        group_limit: int = GROUP_LIMIT,
        headroom: float = 0.02,
        reach: float = REACH,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.limit = max(1, math.floor(rate))  # sends in any one-second window
        self.burst = max(1, min(burst or default_burst(rate), self.limit))
        self.refill = rate * (1.0 - headroom)  # tokens per second
        self.burst_period = self.burst / self.refill  # seconds between full bursts
        self.reach = reach
        self.window = 1.0 + reach + _EPSILON  # a send's place, counted from its start
        self.margin = 0.0  # seconds added to the window on a loaded machine (``late``)
        self.private_interval = private_interval
        self.group_window = group_window
        self.group_limit = group_limit
        # A burst, plus a hundredth of a second's messages (one at least) to spare, so a
        # late wake-up or the sender's transaction in front of a burst is made up, not lost.
        self._capacity = float(self.burst + max(1, math.ceil(rate / 100)))
        self._tokens = self._capacity
        self._tokens_at = 0.0
        self._started: deque[float] = deque()  # write times of the sends within the window
        self._unwritten = 0  # sends committed whose request is not written out yet
        self._replies_waiting = 0
        self._paused_until = 0.0
        self._private: OrderedDict[str, float] = OrderedDict()
        self._groups: OrderedDict[str, deque[float]] = OrderedDict()

    # ---- global budget ---------------------------------------------------------------

    def _level(self, now: float) -> float:
        elapsed = max(0.0, now - self._tokens_at)
        return min(self._capacity, self._tokens + elapsed * self.refill)

    def _spend(self, now: float) -> None:
        self._tokens = self._level(now) - 1.0
        self._tokens_at = max(now, self._tokens_at)
        self._unwritten += 1

    def late(self, seconds: float) -> None:
        """The sender woke up ``seconds`` after it meant to: the machine is loaded, and a
        request may then reach Telegram (or the server that counts it) that much later
        than ``reach`` allows. Each send keeps its place longer by the latest lateness
        seen, at most ``MAX_MARGIN``, which fades by a tenth each time it is looked at
        again."""
        self.margin = max(min(MAX_MARGIN, max(0.0, seconds)), self.margin * _MARGIN_FADE)
        self.window = 1.0 + self.reach + _EPSILON + self.margin

    def written(self, now: float) -> None:
        """A committed send's request was written out (or its answer came back first): it
        leaves the window ``1 s + reach`` from now. Call once per send (``Stamp``)."""
        self._unwritten = max(0, self._unwritten - 1)
        started = self._started
        started.append(max(now, started[-1]) if started else now)

    def _in_window(self, now: float) -> int:
        started = self._started
        while started and started[0] <= now - self.window:
            started.popleft()
        return self._unwritten + len(started)

    def sends_in_window(self, now: float) -> int:
        """Sends the window counts at ``now`` (read only, unlike the pruning the pacer does
        as time goes on); ``now`` may be ahead: the sends still counted then."""
        started = self._started
        gone = 0
        while gone < len(started) and started[gone] <= now - self.window:
            gone += 1
        return self._unwritten + len(started) - gone

    def _room_at(self, now: float, need: int, lead: float = 0.0) -> float:
        """Earliest time the window has room for ``need`` more sends within ``lead``
        seconds (a guess of ``_AWAIT_WRITES`` from now when that needs requests not yet
        written out)."""
        need = min(need, self.limit)
        excess = self._in_window(now) + need - self.limit
        if excess <= 0:
            return now
        if excess > len(self._started):
            return now + _AWAIT_WRITES
        return max(now, self._started[excess - 1] + self.window + _TOKEN_EPSILON - lead)

    def global_delay(self, now: float, want: int = 1, *, lead: float = 0.0) -> float:
        """Seconds to wait before ``want`` broadcast messages (at most a burst) may go;
        with a ``lead``, their places in the window may open up to that much later, each
        send then waiting for its own (``gates``)."""
        want = max(1, min(want, self.burst))
        at = max(now, self._paused_until)
        level = self._level(now) + _TOKEN_EPSILON
        if level < want:
            at = max(at, now + (want - level) / self.refill + _TOKEN_EPSILON)
        at = max(at, self._room_at(now, want + self._replies_waiting, lead))
        return at - now

    def admit(self, now: float, want: int, *, lead: float = 0.0) -> int:
        """How many of ``want`` broadcast messages may go now (0 while paused), their
        places opening within ``lead`` seconds (see ``gates``)."""
        if now < self._paused_until:
            return 0
        self._in_window(now)  # prunes
        room = self.limit - self.sends_in_window(now + lead) - self._replies_waiting
        return max(0, min(want, self.burst, math.floor(self._level(now) + _TOKEN_EPSILON), room))

    def gates(self, now: float, count: int) -> list[float]:
        """When each of ``count`` sends ``admit`` let go may be written out: the moment the
        place it takes leaves the window (``now`` when the window has room already). Call
        before committing them. A burst thus leaves as soon as its first places are free,
        not when the last request of the burst a second before left: written one after the
        other (a millisecond of CPU each, more on a loaded machine), each request takes
        the place of the one written as long before."""
        started = self._started
        over = self._in_window(now) + self._replies_waiting - self.limit
        gates: list[float] = []
        for n in range(1, count + 1):
            excess = over + n
            if excess <= 0:
                gates.append(now)
            elif excess <= len(started):
                gates.append(max(now, started[excess - 1] + self.window + _TOKEN_EPSILON))
            else:  # held by a request not written yet (admit leaves none): look again soon
                gates.append(now + _AWAIT_WRITES)
        return gates

    def reply_delay(self, now: float) -> float:
        """Seconds a reply waits for room in the window (0 almost always)."""
        return max(now, self._paused_until, self._room_at(now, 1)) - now

    def reply_waiting(self, waiting: bool) -> None:
        """A reply starts (or stops) waiting for room: broadcasts leave that room to it."""
        self._replies_waiting = max(0, self._replies_waiting + (1 if waiting else -1))

    def take_for_reply(self, now: float) -> None:
        """A reply goes now: it is counted in the window and taken from the broadcasts'
        budget (the tokens may go below zero; broadcasts then wait for them)."""
        self._spend(now)

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

    def chat_sends(self, chat_key: str, now: float) -> int:
        """Sends to this group or channel within its window (0 for a private chat)."""
        sent = self._groups.get(chat_key)
        return sum(1 for at in sent if at > now - self.group_window) if sent else 0

    def commit(self, chat_key: str, kind: str, now: float) -> None:
        """Record a broadcast message leaving now (global budget plus per-chat use)."""
        self._spend(now)
        self.note_chat(chat_key, kind, now)

    def note_private(self, chat_key: str, now: float) -> None:
        """A message to this private chat leaves now (again): its second starts now."""
        self._private[chat_key] = now
        self._private.move_to_end(chat_key)

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


class Stamp:
    """Places one send in its pacer's window, once: when its request is written out
    (``REQUEST_WRITTEN``), or at the latest when its answer came back."""

    __slots__ = ("_clock", "_done", "_pacer")

    def __init__(self, pacer: Pacer, clock: Callable[[], float]) -> None:
        self._pacer = pacer
        self._clock = clock
        self._done = False

    def __call__(self) -> None:
        if not self._done:
            self._done = True
            self._pacer.written(self._clock())


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
