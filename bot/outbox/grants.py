"""The shared budget's say on a wave the local pacer allows (PostgreSQL, several processes).

Kept apart from the sender loop: it is the one place where the pacer's view of this process
meets the count all processes share (``bot.outbox.budget``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.outbox.budget import SharedBudget
from bot.outbox.pacing import Pacer
from bot.outbox.queue import Delivery
from bot.storage.send_budget import GrantAsk

AHEAD_AT_MOST = 1.0  # seconds ahead of a burst a grant is counted, at most


def grant_ask(
    budget: SharedBudget | None, pacer: Pacer, now: float, size: int, lead: float = 0.0
) -> GrantAsk | None:
    """The budget's grant for the wave about to be claimed, asked by the claim itself (one
    statement per burst, not two): as of when the pacer will let a burst of ``size`` go,
    counting this process's own sends its window will still hold then. Rows the budget
    refuses are not taken, and stay due. None without a shared budget (SQLite)."""
    if budget is None:
        return None
    ahead = min(AHEAD_AT_MOST, max(0.0, pacer.global_delay(now, size, lead=lead)))
    return GrantAsk(budget.terms, pacer.sends_in_window(now + ahead + lead), round(ahead * 1000))


async def shared_grant(
    budget: SharedBudget,
    pacer: Pacer,
    monotonic: Callable[[], float],
    batch: Sequence[Delivery],
    now: float,
    stopping: Callable[[], bool],
    lead: float = 0.0,
) -> tuple[list[Delivery], set[int], float]:
    """Of the ``batch`` the local pacer allows, those the other processes leave room for,
    as the pacer still allows them after asking; the ids of rows whose chat a reply from
    elsewhere reached (noted, so they wait for their chat); and, when none may go, how
    long to wait. ``lead``: the places of the batch may open that much later (``Pacer.gates``),
    so this process's own sends are counted as they will be then."""
    grant = await budget.take(
        [d.address for d in batch],
        [not Pacer.is_private(d.chat_kind) for d in batch],
        reply=False,
        own_used=lambda: pacer.sends_in_window(monotonic() + lead),
        used=[pacer.chat_sends(d.chat_key, now) for d in batch],
    )
    now = monotonic()
    for i in grant.busy:
        pacer.note_chat(batch[i].chat_key, batch[i].chat_kind, now)
    busy = {batch[i].id for i in grant.busy}
    if not grant.granted or stopping():
        return [], busy, grant.wait
    allowed = pacer.admit(now, len(grant.granted), lead=lead)
    return [batch[i] for i in grant.granted[:allowed]], busy, 0.0
