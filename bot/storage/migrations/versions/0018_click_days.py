"""daily tap counts: clicks older than every stats window are folded into click_days

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("regions", sa.String(length=512), nullable=False),
        sa.Column("taps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "target", name=op.f("pk_click_days")),
    )


def downgrade() -> None:
    op.drop_table("click_days")
