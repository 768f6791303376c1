"""the outbox's state index without pending rows

``ix_outbox_due`` (state, priority, next_attempt_at) held every row: a private fan-out
writes a million pending rows with one key, and that entry cost about a third of each
row (``bench/enqueue.py``: backend CPU per row on PostgreSQL, process CPU on SQLite).
Pending rows are read in order from the claim index (``ix_outbox_claim``, which holds
pending and retry rows); the state index now holds the other states only
(``ix_outbox_state``), for the few rows being sent and the unknown, dead and finished
ones. A pending row enters it when the sender claims it, an update that rewrites the
row's index entries anyway.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

NOT_PENDING = "state <> 'pending'"
COLUMNS = ["state", "priority", "next_attempt_at"]


def upgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index(
        "ix_outbox_state",
        "outbox",
        COLUMNS,
        sqlite_where=sa.text(NOT_PENDING),
        postgresql_where=sa.text(NOT_PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_state", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", COLUMNS)
