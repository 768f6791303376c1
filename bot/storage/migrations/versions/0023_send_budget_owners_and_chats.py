"""one Telegram budget, counted as Telegram counts: grants per owner, chats' limits shared

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 04:10:00.000000

``send_budget`` rows now belong to the process that took them (``owner``): a process
counts its own sends with its local pacer, from the moment each request was written out,
and only the others' from the database, so one process sending alone is paced as
precisely as on SQLite. ``waiting`` counts replies refused for want of room, so that
broadcasts everywhere leave room to them. ``send_replies`` notes each reply, edit or
deletion per chat (broadcasts are in the outbox already), so that a reply from one
process and a broadcast from another keep a chat's own limit together. Both tables hold
seconds of state: their rows are deleted as grants go.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Grants sends now, within the global limit and each chat's own. The caller's own sends in
# the window are ``own_used`` (its local count); the others' are the slots of the last
# ``window_slots`` not its own. Broadcasts leave room to replies: as many as replies took
# in the window (at least ``reserve``), and, while replies are waiting, they count their
# own grants from the database as well, so that room appears in everyone's count.
# A chat must wait while a reply went there within ``private_ms`` (private chats) or
# ``group_lim`` sends went there within ``group_ms`` (groups and channels: the replies
# plus ``chat_used``, the caller's own count); a reply also looks at the outbox (rows in
# flight, or sent or unknown within the window). Returns the positions granted (1-based),
# the positions whose chat must wait, and, when nothing was granted, the milliseconds
# after which asking again may succeed. One advisory lock per schema serializes grants.
GRANT_SENDS = """
CREATE FUNCTION newsbot_grant_sends(
    me bigint, own_used integer, chats text[], groups boolean[], chat_used integer[],
    is_reply boolean, lim integer, reserve integer, slot_ms integer, window_slots integer,
    private_ms integer, group_ms integer, group_lim integer,
    OUT granted integer[], OUT busy integer[], OUT wait_ms integer
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_ms bigint;
    now_slot bigint;
    v_others integer;
    v_mine integer;
    v_replies integer;
    v_waiting integer;
    v_oldest bigint;
    room integer;
    n integer := coalesce(array_length(chats, 1), 0);
    last_reply bigint;
    recent integer;
    in_outbox integer;
    outbox_busy boolean;
BEGIN
    granted := '{}';
    busy := '{}';
    wait_ms := 0;
    PERFORM pg_advisory_xact_lock(hashtext('newsbot:send_budget:' || current_schema()));
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    now_slot := now_ms / slot_ms;
    SELECT coalesce(sum(broadcasts + replies) FILTER (WHERE owner <> me), 0),
           coalesce(sum(broadcasts + replies) FILTER (WHERE owner = me), 0),
           coalesce(sum(replies), 0),
           coalesce(sum(waiting) FILTER (WHERE slot > now_slot - 10), 0),
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
    FOR i IN 1..n LOOP
        EXIT WHEN coalesce(array_length(granted, 1), 0) >= room;
        IF chats[i] = '' THEN
            granted := granted || i;
            CONTINUE;
        END IF;
        SELECT max(at_ms), count(*) INTO last_reply, recent
            FROM send_replies WHERE chat = chats[i] AND at_ms > now_ms - group_ms;
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
        IF (NOT groups[i] AND (last_reply > now_ms - private_ms OR outbox_busy))
           OR (groups[i] AND recent + in_outbox + coalesce(chat_used[i], 0) >= group_lim) THEN
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
DROP_TAKE = "DROP FUNCTION newsbot_take_sends(integer, boolean, integer, integer, integer, integer)"
DROP_GRANT = (
    "DROP FUNCTION newsbot_grant_sends(bigint, integer, text[], boolean[], integer[], boolean,"
    " integer, integer, integer, integer, integer, integer, integer)"
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(DROP_TAKE)
    op.drop_table("send_budget")  # seconds of counts: nothing to keep
    op.create_table(
        "send_budget",
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("broadcasts", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", "owner", name=op.f("pk_send_budget")),
    )
    op.create_table(
        "send_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_replies")),
    )
    op.create_index("ix_send_replies_chat", "send_replies", ["chat", "at_ms"])
    if postgresql:
        op.execute(GRANT_SENDS)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(DROP_GRANT)
    op.drop_index("ix_send_replies_chat", table_name="send_replies")
    op.drop_table("send_replies")
    op.drop_table("send_budget")
    op.create_table(
        "send_budget",
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("broadcasts", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_send_budget")),
    )
    if postgresql:
        first = importlib.import_module("bot.storage.migrations.versions.0011_send_budget")
        op.execute(first.TAKE_SENDS)
