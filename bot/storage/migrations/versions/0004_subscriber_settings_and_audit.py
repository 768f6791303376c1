"""subscriber delivery settings, chat managers and the audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )
        batch_op.add_column(
            sa.Column("digest_minute", sa.SmallInteger(), nullable=False, server_default="480")
        )
        batch_op.add_column(sa.Column("quiet_start", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("quiet_end", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_digest_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("pause_reason", sa.String(length=16), nullable=True))
    op.create_table(
        "chat_managers",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_managers_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_chat_managers")),
    )
    with op.batch_alter_table("chat_managers", schema=None) as batch_op:
        batch_op.create_index("ix_chat_managers_user", ["user_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_audit_log_chat_id_chats"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_chat", ["chat_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_chat")
    op.drop_table("audit_log")
    with op.batch_alter_table("chat_managers", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_managers_user")
    op.drop_table("chat_managers")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("pause_reason")
        batch_op.drop_column("last_digest_at")
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("digest_minute")
        batch_op.drop_column("timezone")
