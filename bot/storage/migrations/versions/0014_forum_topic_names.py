"""forum topic names: a topic is shown by its name, kept from Telegram's service messages

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 00:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(sa.Column("topic_name", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("topic_name")
