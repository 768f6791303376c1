"""every message is an outbox row: kinds (digest, weekly list, edit, delete, pin, alert,
test post), a ready body for the kinds that carry their own text, and the post a kind
acts on; pending edits move from the ``edits`` table into the outbox

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 04:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

DUE_CONDITION = "state IN ('pending', 'retry')"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    # Pending edits, read before their table goes (it refers to the outbox being rebuilt).
    edits = bind.execute(
        sa.text(
            "SELECT e.outbox_id, e.action, o.chat_id, c.priority FROM edits e "
            "JOIN outbox o ON o.id = e.outbox_id JOIN chats c ON c.id = o.chat_id"
        )
    ).all()
    with op.batch_alter_table("edits", schema=None) as batch_op:
        batch_op.drop_index("ix_edits_due")
    op.drop_table("edits")
    _drop_partial_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="post")
        )
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("target_id", _ID, nullable=True))
        batch_op.alter_column("article_id", existing_type=_ID, nullable=True)
    _create_partial_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_target",
            ["target_id"],
            unique=False,
            sqlite_where=sa.text("target_id IS NOT NULL"),
            postgresql_where=sa.text("target_id IS NOT NULL"),
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    outbox = sa.table(
        "outbox",
        sa.column("chat_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("target_id", sa.Integer),
        sa.column("state", sa.String),
        sa.column("priority", sa.SmallInteger),
        sa.column("attempts", sa.Integer),
        sa.column("next_attempt_at", sa.DateTime),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
        sa.column("plain_text", sa.Boolean),
        sa.column("no_photo", sa.Boolean),
        sa.column("photo", sa.Boolean),
    )
    if edits:
        op.bulk_insert(
            outbox,
            [
                {
                    "chat_id": chat_id,
                    "kind": "delete" if action == "delete" else "edit",
                    "target_id": outbox_id,
                    "state": "pending",
                    "priority": priority,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "plain_text": False,
                    "no_photo": False,
                    "photo": False,
                }
                for outbox_id, action, chat_id, priority in edits
            ],
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind <> 'post'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_target")
    _drop_partial_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("article_id", existing_type=_ID, nullable=False)
        batch_op.drop_column("target_id")
        batch_op.drop_column("body")
        batch_op.drop_column("kind")
    _create_partial_indexes()
    op.create_table(
        "edits",
        sa.Column("outbox_id", _ID, nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_edits_outbox_id_outbox"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_edits")),
    )
    with op.batch_alter_table("edits", schema=None) as batch_op:
        batch_op.create_index("ix_edits_due", ["due_at"], unique=False)


def _drop_partial_indexes() -> None:
    """SQLite rebuilds the table to change a column: its partial indexes are made again
    by hand afterwards, so their conditions survive the copy."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claim")
        batch_op.drop_index("ix_outbox_unpin")


def _create_partial_indexes() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_claim",
            ["priority", "next_attempt_at", "id"],
            unique=False,
            sqlite_where=sa.text(DUE_CONDITION),
            postgresql_where=sa.text(DUE_CONDITION),
        )
        batch_op.create_index(
            "ix_outbox_unpin",
            ["unpin_at"],
            unique=False,
            sqlite_where=sa.text("unpin_at IS NOT NULL"),
            postgresql_where=sa.text("unpin_at IS NOT NULL"),
        )
