"""chats with quiet hours, by kind and id: what a fan-out chunk asks before its INSERT

Each chunk of a private fan-out reads the distinct quiet hours (time zone, start, end)
among its range of chats, to decide in its INSERT ... SELECT when each row is due
(``bot.storage.deliveries``). Without this index that read visits every chat of the
range (about 0.2 s per million chats on SQLite, ``bench/enqueue.py``); with it only
those that set quiet hours. Readers who start the bot get quiet hours by default
(``bot.localtime.DEFAULT_QUIET``), so where most keep them the index holds most private
chats and the read costs about what it did (0.33 s against 0.38 s per million on SQLite).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

QUIET = "quiet_start IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_chats_quiet",
        "chats",
        ["kind", "id"],
        sqlite_where=sa.text(QUIET),
        postgresql_where=sa.text(QUIET),
    )


def downgrade() -> None:
    op.drop_index("ix_chats_quiet", table_name="chats")
