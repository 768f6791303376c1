"""Subscribing a private chat to an edition (region x language), e.g. from a deep link."""

from __future__ import annotations

import re

from sqlalchemy import select
from telegram import Update

from bot.catalog import Catalog
from bot.storage.models import ChatRegionRow, ChatRow
from bot.storage.repo import PRIORITY, insert_ignoring_conflicts
from handlers.services import Services

_PAYLOAD = re.compile(r"^([a-z0-9_]{1,48})(?:-([a-z]{2,3}))?$")


def parse_deep_link(payload: str, catalog: Catalog, reader_lang: str) -> tuple[str, str] | None:
    """``<region>-<lang>`` or ``<region>`` (in the reader's language); None when invalid."""
    match = _PAYLOAD.match(payload.strip().lower())
    if match is None:
        return None
    region, lang = match.group(1), match.group(2) or reader_lang
    if catalog.region(region) is None or lang not in catalog.languages:
        return None
    return region, lang


async def subscribe_edition(services: Services, update: Update, region: str, lang: str) -> None:
    """Add a region to the reader's subscription and set their edition language."""
    chat = update.effective_chat
    if chat is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        row = await session.scalar(
            select(ChatRow).where(ChatRow.address == str(chat.id), ChatRow.thread_id == 0)
        )
        if row is None:
            row = ChatRow(
                address=str(chat.id),
                thread_id=0,
                kind="private",
                title=chat.full_name or "",
                language=lang,
                origin="user",
                active=True,
                paused=False,
                mode="instant",
                priority=PRIORITY["private"],
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
        row.language = lang
        row.active = True
        row.updated_at = now
        await session.execute(
            insert_ignoring_conflicts(session, ChatRegionRow)
            .values(chat_id=row.id, region=region)
            .on_conflict_do_nothing()
        )
