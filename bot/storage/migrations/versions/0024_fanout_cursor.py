"""private fan-out after the article: articles.fanout_after, a resumable cursor, and
chats by kind (channels and groups found without reading every private chat)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

PENDING = "fanout_after IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("fanout_after", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_articles_fanout",
        "articles",
        ["id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_index("ix_chats_kind_language", "chats", ["kind", "language", "active"])


def downgrade() -> None:
    op.drop_index("ix_chats_kind_language", table_name="chats")
    op.drop_index("ix_articles_fanout", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("fanout_after")
