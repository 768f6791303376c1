"""article search text: titles and summaries folded for inline mode and /search

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 03:50:00.000000

Stories of the search window (``bot.storage.search.SEARCH_DAYS``) that are already stored
are folded here, in batches, so search finds them at once after the upgrade.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from bot.text.search import searchable

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BACKFILL_DAYS = 30
BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("summary", sa.Text),
        sa.column("created_at", sa.DateTime),
        sa.column("search_text", sa.Text),
    )
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=BACKFILL_DAYS)
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.summary)
            .where(articles.c.created_at >= since, articles.c.id > last)
            .order_by(articles.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            articles.update()
            .where(articles.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            [{"row_id": r.id, "text": searchable(r.title, r.summary or "")} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("search_text")
