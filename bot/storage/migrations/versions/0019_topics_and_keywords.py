"""topics and keywords: article topics, the topics and keywords chats follow

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _owned(table: str, parent: str, key: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            [key],
            [f"{parent}.id"],
            name=op.f(f"fk_{table}_{key}_{parent}"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "article_topics",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        *_owned("article_topics", "articles", "article_id"),
        sa.PrimaryKeyConstraint("article_id", "topic", name=op.f("pk_article_topics")),
    )
    op.create_table(
        "chat_topics",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        *_owned("chat_topics", "chats", "chat_id"),
        sa.PrimaryKeyConstraint("chat_id", "topic", name=op.f("pk_chat_topics")),
    )
    op.create_table(
        "chat_keywords",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        *_owned("chat_keywords", "chats", "chat_id"),
        sa.PrimaryKeyConstraint("chat_id", "term", name=op.f("pk_chat_keywords")),
    )


def downgrade() -> None:
    op.drop_table("chat_keywords")
    op.drop_table("chat_topics")
    op.drop_table("article_topics")
