"""The sender's frequent write on PostgreSQL: one statement per burst on a held connection.

For every burst of a broadcast the sender records the answers that came back and takes
the next wave into flight. Through a session that is a transaction: a pool checkout,
BEGIN, the lease's fence, the statements, COMMIT (docs/benchmarks.md, the full form after
the one-statement sender).

Here it is one statement whose parts are data-modifying CTEs: atomic as the transaction
was, with the lease's fence as one more CTE (its share lock lasts as long as the
statement's writes, so no successor can take the lease in between), sent on a connection
the sender holds (``bot.storage.held``). It writes the same facts as
``bot.storage.delivery_claims``' ``record_sent``, ``claim_due`` and ``mark_inflight``, and
reads the same columns; ``bot.outbox.ledger`` takes this path only when every outcome to
record is a plain send (anything else, SQLite included, goes through its transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.outbox.kinds import POST
from bot.outbox.queue import Delivery, Sent
from bot.storage.delivery_claims import post_delivery
from bot.storage.held import HeldConnection
from bot.storage.leases import SERVER_NOW, Term
from bot.storage.models import DUE_CONDITION
from bot.storage.send_budget import GrantAsk, GrantTerms, grant_call

# Planner settings for the connection that runs the claim (``direct_claims``): it must read due
# rows in the claim index's order and stop after a wave, whatever the statistics say. With
# statistics from before a large fan-out (autovacuum analyzes minutes later) the planner
# took the outbox for a few rows and planned a bitmap scan of every due row and a sort, at
# each claim (bench/fanout.py at 1000/s: twice the server's CPU, and it grows with the
# fan-out); with these, only index scans are left to it.
INDEX_SCANS_ONLY: Final = (("enable_bitmapscan", "off"), ("enable_seqscan", "off"))


_ARTICLE_COLUMNS = ("title", "url", "summary", "regions", "alternates", "image_url", "breaking")

# $1 now; $2..$4 the sends to record (ids, message ids, photo flags); the lease (if any)
# is $5..$7 (name, holder, epoch). Sends are recorded whatever the fence says: they are
# facts, and their rows are still in flight, as this sender left them.
_SENT = """
sent AS (
  UPDATE outbox SET state = 'sent', message_id = v.mid, photo = v.photo,
    attempts = outbox.attempts + 1, updated_at = $1, last_error = NULL
  FROM unnest($2::bigint[], $3::bigint[], $4::boolean[]) AS v(id, mid, photo)
  WHERE outbox.id = v.id
)"""
_UNFENCED = "fence AS (SELECT 1 AS held)"
_FENCED = (
    "fence AS (SELECT 1 AS held FROM leases WHERE name = $5 AND holder = $6"
    f" AND epoch = $7 AND expires_at > {SERVER_NOW} FOR SHARE)"
)


# The columns of ``delivery_claims._RESERVED_ROWS``, in its order, then the row's kind and
# whether its article was found. The article's own columns come with the first of its
# rows only (``r.nth``): a wave is mostly one article, and its title, summary and links
# were read, sent and decoded once per row (at 1000/s about a tenth of the sender's CPU is
# in the driver's statements, py-spy on ``bench/fanout.py``).
_ARTICLE = tuple(f"CASE WHEN r.nth = 1 THEN a.{name} END" for name in _ARTICLE_COLUMNS)
_ROW_COLUMNS = (
    "r.id, r.attempts, r.plain_text, r.article_id, c.id, c.address, c.thread_id, c.kind,"
    f" c.language, c.hide_appeals, {', '.join(_ARTICLE)}, c.photos, c.link_preview,"
    " c.silent_at_night, r.no_photo, r.unpin_at, r.priority, r.next_attempt_at, r.kind,"
    " a.id IS NOT NULL, r.nth = 1"
)
_ARTICLE_AT = slice(11, 11 + len(_ARTICLE_COLUMNS))  # where they are in a row read back
_WAIT_AT = 28  # the shared budget's wait, after the row's columns


@lru_cache(maxsize=16)  # one per wave size and fence: a few
def _claim(limit: int, fenced: bool, grant: GrantTerms | None = None) -> str:
    """Record sends, then take up to ``limit`` due rows, channels first, oldest first, from
    ``ix_outbox_claim`` (as ``delivery_claims._reserve``) straight into flight, and read
    what a post needs of each. One row comes back even when nothing was taken: it says
    whether the fence held, and (last column) how long the shared budget asks to wait.

    With ``grant`` (PostgreSQL shared by several processes) the due rows are first asked
    of the shared budget (``newsbot_grant_sends``, as of the burst's departure) and only
    those granted are taken: the others stay due. This was a statement of its own per
    burst, a wake-up of another server backend and of the sender (docs/benchmarks.md).

    The limit (a wave: 15 at 30/s, 50 at 1000/s) is written into the text, one statement
    per size: with ``LIMIT $n`` the server cannot know the claim takes a few rows, and
    once its statistics see many due rows its generic plan hashes whole tables."""
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"a claim takes at least one row, not {limit!r}")
    fence = _FENCED if fenced else _UNFENCED
    if grant is None:
        chosen, wait = "due", "NULL::integer"
        asked = ""
    else:
        chosen, wait = "granted", "(SELECT wait_ms FROM g)"
        asked = _asked(grant, first=8 if fenced else 5)
    return f"""WITH {_SENT}, {fence},
due AS (
  SELECT id, priority, next_attempt_at, chat_id FROM outbox
  WHERE {DUE_CONDITION} AND next_attempt_at <= $1 AND EXISTS (SELECT FROM fence)
  ORDER BY priority, next_attempt_at, id LIMIT {int(limit)} FOR UPDATE SKIP LOCKED
),{asked}
taken AS (
  UPDATE outbox SET state = 'inflight', updated_at = $1 FROM {chosen} AS d
  WHERE outbox.id = d.id
  RETURNING outbox.*
),
r AS (
  SELECT taken.*, row_number() OVER (
    PARTITION BY taken.article_id ORDER BY taken.priority, taken.next_attempt_at, taken.id
  ) AS nth
  FROM taken
)
SELECT f.fenced, {_ROW_COLUMNS}, {wait}
FROM (SELECT EXISTS (SELECT FROM fence) AS fenced) AS f
LEFT JOIN (r JOIN chats AS c ON c.id = r.chat_id LEFT JOIN articles AS a ON a.id = r.article_id)
  ON true
ORDER BY r.priority, r.next_attempt_at, r.id"""


def _asked(terms: GrantTerms, first: int) -> str:
    """The CTEs that ask the budget for the due rows, in sending order, and keep those
    granted: each row's chat, whether it is a group or channel, and (for those) the posts
    sent to it within the group window, which the outbox holds for every process
    (``bot.outbox.budget``: a broadcast grant weighs its chats' own limits). ``first``:
    the placeholder of the process's own sends; the next is how far ahead it asks."""
    call = grant_call(terms, f"${first}", f"${first + 1}", "q")
    return f"""
asked AS (
  SELECT d.id, row_number() OVER (ORDER BY d.priority, d.next_attempt_at, d.id) AS pos,
    c.address, c.kind <> 'private' AS grp,
    CASE WHEN c.kind = 'private' THEN 0 ELSE (
      SELECT count(*) FROM outbox AS o
      WHERE o.chat_id = c.id AND o.state IN ('inflight', 'sent', 'unknown')
        AND o.updated_at > $1 - make_interval(secs => {int(terms.group_ms)} / 1000.0)
    ) END::integer AS used
  FROM due AS d CROSS JOIN LATERAL (  -- by key, row by row (OFFSET 0: never a join plan)
    SELECT chats.id, chats.address, chats.kind FROM chats WHERE chats.id = d.chat_id OFFSET 0
  ) AS c
),
g AS (
  SELECT a.granted, a.wait_ms FROM (
    SELECT array_agg(address ORDER BY pos) AS chats, array_agg(grp ORDER BY pos) AS groups,
      array_agg(used ORDER BY pos) AS used
    FROM asked
  ) AS q, LATERAL {call} AS a
  WHERE q.chats IS NOT NULL
),
granted AS (SELECT asked.id FROM asked, g WHERE asked.pos = ANY (g.granted)),"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim took into flight: the posts (in sending order), the ids of rows of
    other kinds (``reserved_messages`` reads them), whether the fence held (if not,
    nothing was taken), and how long the shared budget asked to wait (seconds; 0 when it
    granted some or was not asked)."""

    fenced: bool
    posts: list[Delivery]
    others: list[int]
    order: dict[int, tuple[int, datetime, int]]
    wait: float = 0.0


class DirectClaims:
    """The sender's claim of a wave in one statement (see the module's doc)."""

    def __init__(self, held: HeldConnection) -> None:
        self._held = held

    async def claim(
        self,
        sent: Sequence[tuple[int, Sent]],
        now: datetime,
        limit: int,
        term: Term | None,
        ask: GrantAsk | None = None,
    ) -> Claimed:
        """Record ``sent`` and take up to ``limit`` due rows into flight: one wave's worth,
        so a row is written twice on its way (in flight, then its outcome), not three
        times (reserved first), and a crash finds no more in flight than a wave. With
        ``ask``, only the rows the shared budget grants are taken."""
        statement = _claim(limit, term is not None, ask.terms if ask is not None else None)
        arguments = _arguments(sent, now, term)
        if ask is not None:
            arguments += [ask.own, ask.ahead_ms]
        rows = await self._held.fetch(statement, *arguments)
        order: dict[int, tuple[int, datetime, int]] = {}
        posts: list[Delivery] = []
        others: list[int] = []
        articles: dict[int, tuple[Any, ...]] = {}  # each article's columns, from its first row
        for row in rows:
            if row[1] is None:  # the one row of an empty (or refused) reservation
                continue
            values = tuple(row)
            if values[27]:  # the first row of its article (whatever its kind) carries it
                articles[values[4]] = values[_ARTICLE_AT]
            if values[25] != POST:
                others.append(values[1])
            elif values[26]:  # a post whose article is gone is left reserved, as before
                values = (
                    *values[: _ARTICLE_AT.start],
                    *articles[values[4]],
                    *values[_ARTICLE_AT.stop :],
                )
                posts.append(post_delivery(values[1:25], order))
        wait_ms = rows[0][_WAIT_AT]
        return Claimed(bool(rows[0][0]), posts, others, order, (wait_ms or 0) / 1000)

    async def close(self) -> None:
        """Give the held connection back to the pool."""
        await self._held.close()


def direct_claims(sessions: async_sessionmaker[AsyncSession]) -> DirectClaims | None:
    """The direct path on the sessions' engine, which must be PostgreSQL's (else None: a
    factory that is not a plain ``async_sessionmaker`` over an engine keeps every write
    in its transactions)."""
    bind = getattr(sessions, "kw", {}).get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        return DirectClaims(HeldConnection(bind, INDEX_SCANS_ONLY))
    return None


def _arguments(sent: Sequence[tuple[int, Sent]], now: datetime, term: Term | None) -> list[Any]:
    arguments: list[Any] = [
        now,
        [row_id for row_id, _ in sent],
        [s.message_id for _, s in sent],
        [s.photo for _, s in sent],
    ]
    if term is not None:
        arguments += [term.name, term.holder, term.epoch]
    return arguments
