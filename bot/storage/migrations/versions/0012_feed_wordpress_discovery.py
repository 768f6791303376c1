"""feed wordpress discovery: the REST API found from a feed's own answers, and how

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch_op:
        batch_op.add_column(sa.Column("wordpress_api", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("wordpress_found", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch_op:
        batch_op.drop_column("wordpress_found")
        batch_op.drop_column("wordpress_api")
