"""digest when empty: a reader may ask for the daily digest on days without news too

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 00:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(
            sa.Column("digest_when_empty", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("digest_when_empty")
