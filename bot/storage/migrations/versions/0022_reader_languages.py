"""several languages per reader: the editions a chat follows after its first

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_languages",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_languages_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "language", name=op.f("pk_chat_languages")),
    )


def downgrade() -> None:
    op.drop_table("chat_languages")
