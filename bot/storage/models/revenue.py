"""Revenue: clicks (raw and per day) and Stars donations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base


class ClickRow(Base):
    """A tracked-link tap: at most one per reader, target and UTC day (the unique key).

    ``reader`` is a keyed hash of IP and User-Agent (Telegram gives no user id on a
    URL tap); ``target`` a hash of the URL, so the unique index stays short.
    """

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # article | donate
    target: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    language: Mapped[str] = mapped_column(String(8))
    regions: Mapped[str] = mapped_column(String(512), default="")  # space-separated codes
    reader: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the IP alone: caps the readers one address can count as.
    address: Mapped[str] = mapped_column(String(32), default="", server_default="")
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("day", "reader", "kind", "target", name="uq_clicks_day_reader_target"),
        Index("ix_clicks_created", "created_at"),
        Index("ix_clicks_address", "day", "address", "target"),
    )


class ClickDayRow(Base):
    """Taps of one target on one UTC day, folded from ``clicks`` once the day is older
    than every stats window (retention): the history stays, one row per target a day."""

    __tablename__ = "click_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    language: Mapped[str] = mapped_column(String(8))
    regions: Mapped[str] = mapped_column(String(512), default="")
    taps: Mapped[int] = mapped_column(Integer)


class DonationRow(Base):
    """A Telegram Stars payment, recorded once by its ``telegram_payment_charge_id``."""

    __tablename__ = "donations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(8))
    payload: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A payment whose invoice payload the bot did not sign (or names another payer or
    # amount): kept, so a refund can find it, but not thanked nor counted.
    suspicious: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_donations_created", "created_at"),)
