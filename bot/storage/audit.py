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
    session.add(
        AuditRow(
            at=now,
            user_id=user_id,
            chat_id=chat.id if chat is not None else None,
            address=chat.address if chat is not None else "",
            action=action[:32],
            detail=detail,
        )
    )
