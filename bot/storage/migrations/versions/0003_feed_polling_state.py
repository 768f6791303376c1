"""feed polling state: pending permanent redirect, idle polls, server-requested hold, feed ttl

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_to", sa.String(length=2048), nullable=True))
        batch_op.add_column(
            sa.Column("moved_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("idle_polls", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("hold_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ttl_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("ttl_seconds")
        batch_op.drop_column("hold_until")
        batch_op.drop_column("idle_polls")
        batch_op.drop_column("moved_count")
        batch_op.drop_column("moved_to")
