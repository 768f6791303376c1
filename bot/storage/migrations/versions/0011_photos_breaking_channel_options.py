"""lead images and breaking news on articles; photo, pin, quiet and preview options

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_url", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("breaking", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("breaking_alerts", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("photos", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("pin_breaking_hours", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("silent_at_night", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("link_preview", sa.String(length=8), nullable=False, server_default="auto")
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("no_photo", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("photo", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("unpin_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_outbox_unpin",
            ["unpin_at"],
            unique=False,
            sqlite_where=sa.text("unpin_at IS NOT NULL"),
            postgresql_where=sa.text("unpin_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unpin")
        batch_op.drop_column("unpin_at")
        batch_op.drop_column("photo")
        batch_op.drop_column("no_photo")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        for name in (
            "link_preview",
            "silent_at_night",
            "pin_breaking_hours",
            "photos",
            "breaking_alerts",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("breaking")
        batch_op.drop_column("image_url")
