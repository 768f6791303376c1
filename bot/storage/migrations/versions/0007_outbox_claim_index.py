"""partial index for the sender's claim: due rows in (priority, time) order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DUE_CONDITION = "state IN ('pending', 'retry')"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_claim",
            ["priority", "next_attempt_at", "id"],
            unique=False,
            sqlite_where=sa.text(DUE_CONDITION),
            postgresql_where=sa.text(DUE_CONDITION),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claim")
