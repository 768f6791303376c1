"""The audit log: who changed what in a chat's configuration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    AuditRow,
    ChatRow,
)


async def audit(
    session: AsyncSession,
    now: datetime,
    user_id: int | None,
    chat: ChatRow | None,
    action: str,
    detail: str = "",
) -> None:
    """Record who changed what in a chat's configuration."""
    chat_id, address = (chat.id, chat.address) if chat is not None else (None, "")
    audit_at(session, now, user_id, chat_id, address, action, detail)


def audit_at(
    session: AsyncSession,
    now: datetime,
    user_id: int | None,
    chat_id: int | None,
    address: str,
    action: str,
    detail: str = "",
) -> None:
    """:func:`audit` for a chat known by its id and address only (no row loaded)."""
    session.add(
        AuditRow(
            at=now,
            user_id=user_id,
            chat_id=chat_id,
            address=address,
            action=action[:32],
            detail=detail,
        )
    )
