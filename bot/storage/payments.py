"""The payments aggregate: Telegram Stars donations, stored once per charge, and refunds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.batches import insert_once
from bot.storage.models import DonationRow


async def record_donation(
    session: AsyncSession,
    *,
    charge_id: str,
    user_id: int,
    amount: int,
    currency: str,
    payload: str,
    language: str,
    now: datetime,
    suspicious: bool = False,
) -> bool:
    """Store a payment once per charge id; False when it was already recorded."""
    return await insert_once(
        session,
        DonationRow,
        charge_id=charge_id,
        user_id=user_id,
        amount=amount,
        currency=currency[:8],
        payload=payload[:128],
        language=language,
        created_at=now,
        suspicious=suspicious,
    )


async def recent_donations(session: AsyncSession, limit: int = 15) -> list[DonationRow]:
    query = select(DonationRow).order_by(DonationRow.created_at.desc(), DonationRow.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def donation_by_charge(session: AsyncSession, charge_id: str) -> DonationRow | None:
    """The donation Telegram charged under ``charge_id`` (ids are stored cut to 255)."""
    return await session.scalar(select(DonationRow).where(DonationRow.charge_id == charge_id[:255]))


async def mark_refunded(session: AsyncSession, donation_id: int, now: datetime) -> None:
    """The Stars went back to the donor: the row says when."""
    stored = await session.get(DonationRow, donation_id)
    if stored is not None:
        stored.refunded_at = now
