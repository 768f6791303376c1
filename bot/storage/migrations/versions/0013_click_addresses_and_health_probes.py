"""the address behind a tap (capped readers per address) and the health write probe

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 23:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.create_index("ix_clicks_address", ["day", "address", "target"], unique=False)
    op.create_table(
        "health_probes",
        sa.Column("process", sa.String(length=120), nullable=False),
        sa.Column("probed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("process", name=op.f("pk_health_probes")),
    )


def downgrade() -> None:
    op.drop_table("health_probes")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_clicks_address")
        batch_op.drop_column("address")
