"""the outbox without foreign keys, and private chats walked by (kind, id)

A private fan-out writes one outbox row per reader: on PostgreSQL the two foreign keys
(article, chat) cost about 40 % of each row (a trigger per key per row, each locking the
parent row; ``bench/enqueue.py``). Nothing deletes an article or a chat (a chat that
leaves is deactivated, retention only empties an article's summary), and whatever does
must delete their outbox rows with them (``bot.storage.forget``).

The fan-out's chunks are ranges of private chat ids: ``ix_chats_kind_id`` finds a range
and its end without reading every private chat of a language, and channels and groups by
kind as ``ix_chats_kind_language`` did.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

DUE_CONDITION = "state IN ('pending', 'retry')"
PARTIAL = {
    "ix_outbox_claim": (["priority", "next_attempt_at", "id"], DUE_CONDITION),
    "ix_outbox_unpin": (["unpin_at"], "unpin_at IS NOT NULL"),
    "ix_outbox_target": (["target_id"], "target_id IS NOT NULL"),
}
KEYS = {
    "fk_outbox_article_id_articles": ("articles", "article_id"),
    "fk_outbox_chat_id_chats": ("chats", "chat_id"),
}


def upgrade() -> None:
    _drop_partial_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
    _create_partial_indexes()
    op.drop_index("ix_chats_kind_language", table_name="chats")
    op.create_index("ix_chats_kind_id", "chats", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_chats_kind_id", table_name="chats")
    op.create_index("ix_chats_kind_language", "chats", ["kind", "language", "active"])
    op.execute("DELETE FROM outbox WHERE chat_id NOT IN (SELECT id FROM chats)")
    op.execute(
        "DELETE FROM outbox WHERE article_id IS NOT NULL"
        " AND article_id NOT IN (SELECT id FROM articles)"
    )
    _drop_partial_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, (table, column) in KEYS.items():
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete="CASCADE")
    _create_partial_indexes()


def _drop_partial_indexes() -> None:
    """SQLite rebuilds the table to change its keys: its partial indexes are made again by
    hand afterwards, so their conditions survive the copy."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in PARTIAL:
            batch_op.drop_index(name)


def _create_partial_indexes() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, (columns, where) in PARTIAL.items():
            batch_op.create_index(
                name,
                columns,
                unique=False,
                sqlite_where=sa.text(where),
                postgresql_where=sa.text(where),
            )
