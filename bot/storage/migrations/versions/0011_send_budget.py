"""one Telegram budget for all processes: sends granted per 20 ms slot (PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Grants ``want`` sends now if the last ``window_slots`` slots leave room: replies may use
# the whole limit, broadcasts leave as much room as replies took in the window (at least
# ``reserve``). Returns the sends granted, or minus the milliseconds until the oldest slot
# leaves the window when none could be. One advisory lock per schema serializes grants,
# and each statement inside sees what the previous holder committed.
TAKE_SENDS = """
CREATE FUNCTION newsbot_take_sends(
    want integer, is_reply boolean, lim integer, reserve integer,
    slot_ms integer, window_slots integer
) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_slot bigint;
    used_b integer;
    used_r integer;
    oldest bigint;
    room integer;
    granted integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('newsbot:send_budget:' || current_schema()));
    now_slot := floor(extract(epoch FROM clock_timestamp()) * 1000 / slot_ms)::bigint;
    SELECT coalesce(sum(broadcasts), 0), coalesce(sum(replies), 0), min(slot)
        INTO used_b, used_r, oldest
        FROM send_budget WHERE slot > now_slot - window_slots;
    room := lim - used_b - used_r;
    IF NOT is_reply THEN
        room := room - greatest(reserve, used_r);
    END IF;
    granted := least(want, greatest(room, 0));
    IF granted > 0 THEN
        INSERT INTO send_budget (slot, broadcasts, replies)
            VALUES (now_slot, CASE WHEN is_reply THEN 0 ELSE granted END,
                    CASE WHEN is_reply THEN granted ELSE 0 END)
            ON CONFLICT (slot) DO UPDATE SET
                broadcasts = send_budget.broadcasts + EXCLUDED.broadcasts,
                replies = send_budget.replies + EXCLUDED.replies;
        IF random() < 0.02 THEN
            DELETE FROM send_budget WHERE slot <= now_slot - 4 * window_slots;
        END IF;
        RETURN granted;
    END IF;
    RETURN -greatest(1, (coalesce(oldest, now_slot) + window_slots - now_slot) * slot_ms);
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("broadcasts", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_send_budget")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_SENDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION newsbot_take_sends(integer, boolean, integer, integer, integer, integer)"
        )
    op.drop_table("send_budget")
