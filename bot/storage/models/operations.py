"""Operations: the audit log, leases, ingest replays and health probes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class AuditRow(Base):
    """Who changed what in a chat's configuration, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_log_chat", "chat_id", "at"),)


class LeaseRow(Base):
    """Leadership of one guarded part (sender, scheduler) on PostgreSQL.

    ``expires_at`` is the database server's own clock (never a process's), renewed by the
    holder; ``epoch`` grows by one at each change of holder and fences the sender's
    transactions, so a leader cut off and then back cannot touch what its successor owns.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class IngestReplayRow(Base):
    """A signed CMS push already accepted: its signature, kept until its timestamp leaves
    the accepted window (after that the timestamp alone refuses a repeat). In the
    database, so that every web process refuses a repeat the others accepted."""

    __tablename__ = "ingest_replays"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_ingest_replays_expires", "expires_at"),)


class HealthProbeRow(Base):
    """The last write each process made to prove the database takes writes (``/healthz``
    on the metrics listener); rows of processes gone for a day are deleted."""

    __tablename__ = "health_probes"

    process: Mapped[str] = mapped_column(String(120), primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(DateTime)
