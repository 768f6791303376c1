"""the shared send budget's grant can be asked ahead, as a burst's wave is claimed

The sender asked ``newsbot_grant_sends`` for every burst of a broadcast as a statement
of its own, just before the burst left, besides the statement that took its wave into
flight a moment earlier (``bot.storage.direct_claims``): two statements per burst, each
a wake-up of its own server backend and of the sender. The wave's claim now asks the
grant itself, for the rows it is about to take, and takes only those granted. It is made
up to a quarter of a second before the burst leaves, so the function takes ``ahead_ms``
and decides and counts the grant as of then: the room of the window the burst will leave
in, and the slot it will be counted in (replies waiting for room are still those that
asked in the last 0.2 s of now). ``ahead_ms`` defaults to 0, so a call written for
0028's function (a process not yet restarted) is answered as before.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 00:40:00.000000

The function is written out whole, as migrations 0023 and 0028 wrote theirs: a migration
keeps the text it ran, whatever later ones change.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_BEFORE = (
    "newsbot_grant_sends(bigint, integer, text[], boolean[], integer[], boolean, integer,"
    " integer, integer, integer, integer, integer, integer)"
)
_NOW = (
    "newsbot_grant_sends(bigint, integer, text[], boolean[], integer[], boolean, integer,"
    " integer, integer, integer, integer, integer, integer, integer)"
)

GRANT_SENDS = """
CREATE FUNCTION newsbot_grant_sends(
    me bigint, own_used integer, chats text[], groups boolean[], chat_used integer[],
    is_reply boolean, lim integer, reserve integer, slot_ms integer, window_slots integer,
    private_ms integer, group_ms integer, group_lim integer, ahead_ms integer DEFAULT 0,
    OUT granted integer[], OUT busy integer[], OUT wait_ms integer
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_ms bigint;
    now_slot bigint;
    real_slot bigint;
    v_others integer;
    v_mine integer;
    v_replies integer;
    v_waiting integer;
    v_oldest bigint;
    room integer;
    n integer := coalesce(array_length(chats, 1), 0);
    last_replies bigint[];
    recents integer[];
    in_outbox integer;
    outbox_busy boolean;
BEGIN
    granted := '{}';
    busy := '{}';
    wait_ms := 0;
    PERFORM pg_advisory_xact_lock(hashtext('newsbot:send_budget:' || current_schema()));
    -- A broadcast's grant is asked as its wave is claimed, ahead of the burst: it is
    -- decided and counted as of the burst's departure; replies waiting are those of now.
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    real_slot := now_ms / slot_ms;
    now_ms := now_ms + ahead_ms;
    now_slot := now_ms / slot_ms;
    SELECT coalesce(sum(broadcasts + replies) FILTER (WHERE owner <> me), 0),
           coalesce(sum(broadcasts + replies) FILTER (WHERE owner = me), 0),
           coalesce(sum(replies), 0),
           coalesce(sum(waiting) FILTER (WHERE slot > real_slot - 10), 0),
           min(slot) FILTER (WHERE owner <> me)
        INTO v_others, v_mine, v_replies, v_waiting, v_oldest
        FROM send_budget WHERE slot > now_slot - window_slots;
    room := lim - own_used - v_others;
    IF NOT is_reply THEN
        room := room - greatest(reserve, v_replies);
        IF v_waiting > 0 THEN
            room := least(room, lim - v_waiting - v_others - v_mine);
        END IF;
    END IF;
    IF room <= 0 THEN
        wait_ms := greatest(slot_ms,
                            (coalesce(v_oldest, now_slot) + window_slots - now_slot) * slot_ms);
        IF is_reply THEN
            INSERT INTO send_budget AS b (slot, owner, broadcasts, replies, waiting)
                VALUES (now_slot, me, 0, 0, 1)
                ON CONFLICT (slot, owner) DO UPDATE SET waiting = b.waiting + 1;
        END IF;
        RETURN;
    END IF;
    -- Every asked chat's replies within the group window, by position, in one statement.
    SELECT array_agg(r.last_reply ORDER BY c.pos), array_agg(coalesce(r.recent, 0) ORDER BY c.pos)
        INTO last_replies, recents
        FROM unnest(chats) WITH ORDINALITY AS c(chat, pos)
        LEFT JOIN (SELECT s.chat, max(s.at_ms) AS last_reply, count(*)::integer AS recent
                     FROM send_replies s
                     WHERE s.chat = ANY(chats) AND s.chat <> '' AND s.at_ms > now_ms - group_ms
                     GROUP BY s.chat) r ON r.chat = c.chat;
    FOR i IN 1..n LOOP
        EXIT WHEN coalesce(array_length(granted, 1), 0) >= room;
        IF chats[i] = '' THEN
            granted := granted || i;
            CONTINUE;
        END IF;
        in_outbox := 0;
        outbox_busy := false;
        IF is_reply THEN
            SELECT count(*), coalesce(bool_or(o.state = 'inflight'
                       OR o.updated_at > (clock_timestamp() AT TIME ZONE 'UTC')
                                         - make_interval(secs => private_ms / 1000.0)), false)
                INTO in_outbox, outbox_busy
                FROM outbox o JOIN chats c ON c.id = o.chat_id
                WHERE c.address = chats[i]
                  AND o.state IN ('inflight', 'sent', 'unknown')
                  AND o.updated_at > (clock_timestamp() AT TIME ZONE 'UTC')
                                     - make_interval(secs => group_ms / 1000.0);
        END IF;
        IF (NOT groups[i] AND (last_replies[i] > now_ms - private_ms OR outbox_busy))
           OR (groups[i] AND recents[i] + in_outbox + coalesce(chat_used[i], 0) >= group_lim) THEN
            busy := busy || i;
        ELSE
            granted := granted || i;
        END IF;
    END LOOP;
    IF coalesce(array_length(granted, 1), 0) = 0 THEN
        wait_ms := CASE WHEN n > 0 THEN least(private_ms, 200) ELSE slot_ms END;
        RETURN;
    END IF;
    INSERT INTO send_budget AS b (slot, owner, broadcasts, replies, waiting)
        VALUES (now_slot, me,
                CASE WHEN is_reply THEN 0 ELSE array_length(granted, 1) END,
                CASE WHEN is_reply THEN array_length(granted, 1) ELSE 0 END, 0)
        ON CONFLICT (slot, owner) DO UPDATE SET
            broadcasts = b.broadcasts + EXCLUDED.broadcasts,
            replies = b.replies + EXCLUDED.replies;
    IF is_reply THEN
        INSERT INTO send_replies (chat, at_ms)
            SELECT chats[g.pos], now_ms FROM unnest(granted) AS g(pos) WHERE chats[g.pos] <> '';
    END IF;
    IF random() < 0.02 THEN
        DELETE FROM send_budget WHERE slot <= now_slot - 4 * window_slots;
        DELETE FROM send_replies WHERE at_ms <= now_ms - 2 * group_ms;
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one process, no shared budget
    op.execute(f"DROP FUNCTION {_BEFORE}")
    op.execute(GRANT_SENDS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    before = importlib.import_module("bot.storage.migrations.versions.0028_send_budget_unlogged")
    op.execute(f"DROP FUNCTION {_NOW}")
    op.execute(before.GRANT_SENDS)
