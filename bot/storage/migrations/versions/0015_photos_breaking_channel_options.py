"""lead images and breaking news on articles; photo, pin, quiet and preview options

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 23:00:00.000000

Plain ``ADD COLUMN`` statements (no batch table copy): every new column has a constant
default, which SQLite adds in place, so a large outbox is not rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COLUMNS: dict[str, list[sa.Column[object]]] = {
    "articles": [
        sa.Column("image_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("breaking", sa.Boolean(), nullable=False, server_default=sa.false()),
    ],
    "chats": [
        sa.Column("breaking_alerts", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("photos", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("pin_breaking_hours", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("silent_at_night", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("link_preview", sa.String(length=8), nullable=False, server_default="auto"),
    ],
    "outbox": [
        sa.Column("no_photo", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("photo", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("unpin_at", sa.DateTime(), nullable=True),
    ],
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    op.create_index(
        "ix_outbox_unpin",
        "outbox",
        ["unpin_at"],
        unique=False,
        sqlite_where=sa.text("unpin_at IS NOT NULL"),
        postgresql_where=sa.text("unpin_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unpin", table_name="outbox")
    for table, columns in reversed(_COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column.name)
