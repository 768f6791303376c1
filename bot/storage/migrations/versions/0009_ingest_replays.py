"""signatures of accepted CMS pushes, so a repeat is not acted on again

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_replays",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_ingest_replays")),
    )
    with op.batch_alter_table("ingest_replays", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_replays_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_replays", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_replays_expires")
    op.drop_table("ingest_replays")
