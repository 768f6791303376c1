"""Subscribing a private chat to an edition (region x language), e.g. from a deep link."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.catalog import Catalog
from bot.storage.models import ChatRow
from bot.storage.repo import add_chat_region, chat_region_codes, ensure_private_chat
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


async def add_region(session: AsyncSession, catalog: Catalog, row: ChatRow, region: str) -> None:
    """Add a region; the first region a reader picks also sets their time zone."""
    if not await chat_region_codes(session, row.id):
        found = catalog.region(region)
        if found is not None:
            row.timezone = found.timezone
    await add_chat_region(session, row.id, region)


async def subscribe_edition(services: Services, update: Update, region: str, lang: str) -> None:
    """Add a region to the reader's subscription and set their edition language."""
    chat = update.effective_chat
    if chat is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        row = await ensure_private_chat(session, chat.id, chat.full_name or "", lang, now)
        row.language = lang
        row.active = True
        row.updated_at = now
        await add_region(session, services.catalog, row, region)
