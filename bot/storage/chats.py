"""The chats aggregate: destinations (channels, groups, topics, readers), regions, managers.

Each function takes an ``AsyncSession`` and leaves committing to the caller, so a
handler can group several of them into one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    delete,
    func,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import Catalog
from bot.chat_ids import is_private_chat
from bot.localtime import DEFAULT_DIGEST_MINUTE, DEFAULT_QUIET
from bot.storage.models import (
    ChatManagerRow,
    ChatRegionRow,
    ChatRow,
)
from bot.storage.upsert import insert_ignoring_conflicts

ALL_REGIONS = "*"
PRIORITY = {"channel": 0, "supergroup": 1, "group": 1, "private": 2}


def _guess_kind(address: str) -> str:
    return "private" if is_private_chat(address) else "channel"


async def sync_catalog_channels(session: AsyncSession, catalog: Catalog, now: datetime) -> None:
    """Make the catalog's ``[[channels]]`` destinations match the file.

    Channels removed from the catalog are deactivated (their history is kept);
    a channel the bot was removed from stays paused until it is re-added.
    """
    wanted: set[tuple[str, int]] = set()
    for channel in catalog.channels:
        address, thread = channel.address, channel.thread or 0
        wanted.add((address, thread))
        row = await session.scalar(
            select(ChatRow).where(ChatRow.address == address, ChatRow.thread_id == thread)
        )
        kind = _guess_kind(address)
        if row is None:
            row = ChatRow(
                address=address,
                thread_id=thread,
                kind=kind,
                title=address,
                created_at=now,
                paused=False,
                mode="instant",
            )
            session.add(row)
        row.language = channel.language
        row.origin = "catalog"
        row.active = True
        row.priority = PRIORITY.get(row.kind, 2)
        row.photos = channel.photos
        row.pin_breaking_hours = channel.pin_breaking_hours
        row.silent_at_night = channel.silent_at_night
        row.link_preview = channel.link_preview
        row.updated_at = now
        await session.flush()
        await set_chat_regions(session, row.id, channel.regions or [ALL_REGIONS])
    stale = await session.scalars(select(ChatRow).where(ChatRow.origin == "catalog"))
    for row in stale:
        if (row.address, row.thread_id) not in wanted and row.active:
            row.active = False
            row.updated_at = now


async def set_chat_regions(session: AsyncSession, chat_pk: int, regions: Iterable[str]) -> None:
    await session.execute(delete(ChatRegionRow).where(ChatRegionRow.chat_id == chat_pk))
    codes = sorted(set(regions))
    if codes:
        await session.execute(
            insert_ignoring_conflicts(session, ChatRegionRow),
            [{"chat_id": chat_pk, "region": code} for code in codes],
        )


async def chat_by_id(session: AsyncSession, chat_pk: int | None) -> ChatRow | None:
    """The chat's row by its id (the one buttons carry), None when it is gone (or no id
    was given)."""
    return None if chat_pk is None else await session.get(ChatRow, chat_pk)


async def find_chat(session: AsyncSession, address: str, thread_id: int = 0) -> ChatRow | None:
    return await session.scalar(
        select(ChatRow).where(ChatRow.address == address, ChatRow.thread_id == thread_id)
    )


async def find_connected_chat(
    session: AsyncSession, chat_id: int, username: str | None, thread_id: int = 0
) -> ChatRow | None:
    """The chat's row by its numeric id, else the catalog's row for its ``@username``
    (``chat = "@cw_georgia"``; usernames ignore case), so an admin connecting a
    catalog channel gets that channel and not a second row that would post twice."""
    row = await find_chat(session, str(chat_id), thread_id)
    if row is not None or not username:
        return row
    return await session.scalar(
        select(ChatRow).where(
            ChatRow.origin == "catalog",
            func.lower(ChatRow.address) == f"@{username}".lower(),
            ChatRow.thread_id == thread_id,
        )
    )


async def connect_chat(
    session: AsyncSession,
    chat_id: int,
    username: str | None,
    thread: int,
    *,
    kind: str,
    title: str,
    topic_name: str | None,
    language: str,
    now: datetime,
) -> ChatRow:
    """A channel, group or forum topic an admin connects: its row (found as
    :func:`find_connected_chat` does) created in ``language``, or reactivated, with
    Telegram's kind and title now. A catalog chat the catalog dropped becomes the
    admin's own; a topic keeps the name it had (later renames come by service message)."""
    row = await find_connected_chat(session, chat_id, username, thread)
    if row is not None and row.origin == "catalog" and not row.active:
        row.origin = "user"  # dropped from the catalog: the admin's own now
    if row is None:
        row = ChatRow(
            address=str(chat_id),
            thread_id=thread,
            kind=kind,
            language=language,
            origin="user",
            mode="instant",
            created_at=now,
        )
        session.add(row)
    row.title = title[:256]
    if thread and row.topic_name is None:
        row.topic_name = topic_name
    row.kind = kind
    row.priority = PRIORITY.get(kind, 1)
    row.active, row.paused, row.pause_reason = True, False, None
    row.updated_at = now
    await session.flush()
    return row


async def ensure_private_chat(
    session: AsyncSession, chat_id: int, title: str, language: str, now: datetime
) -> ChatRow:
    """The reader's private-chat row, created with the defaults on first contact.

    New readers get instant delivery and quiet hours 23:00-08:00 (their time zone is
    set from the first region they choose).
    """
    row = await find_chat(session, str(chat_id))
    if row is None:
        row = ChatRow(
            address=str(chat_id),
            thread_id=0,
            kind="private",
            title=title[:256],
            language=language,
            origin="user",
            active=True,
            paused=False,
            mode="instant",
            priority=PRIORITY["private"],
            created_at=now,
            updated_at=now,
            timezone="UTC",
            digest_minute=DEFAULT_DIGEST_MINUTE,
            quiet_start=DEFAULT_QUIET[0],
            quiet_end=DEFAULT_QUIET[1],
        )
        session.add(row)
        await session.flush()
    return row


async def chat_region_codes(session: AsyncSession, chat_pk: int) -> list[str]:
    rows = await session.scalars(
        select(ChatRegionRow.region)
        .where(ChatRegionRow.chat_id == chat_pk)
        .order_by(ChatRegionRow.region)
    )
    return list(rows)


async def add_chat_region(session: AsyncSession, chat_pk: int, region: str) -> None:
    await session.execute(
        insert_ignoring_conflicts(session, ChatRegionRow)
        .values(chat_id=chat_pk, region=region)
        .on_conflict_do_nothing()
    )


async def toggle_chat_region(session: AsyncSession, chat_pk: int, region: str) -> bool:
    """Turn one region on or off for a destination; returns whether it is now on."""
    removed = await session.execute(
        delete(ChatRegionRow).where(
            ChatRegionRow.chat_id == chat_pk, ChatRegionRow.region == region
        )
    )
    if int(getattr(removed, "rowcount", 0) or 0):
        return False
    await add_chat_region(session, chat_pk, region)
    return True


async def add_manager(session: AsyncSession, chat_pk: int, user_id: int) -> None:
    await session.execute(
        insert_ignoring_conflicts(session, ChatManagerRow)
        .values(chat_id=chat_pk, user_id=user_id)
        .on_conflict_do_nothing()
    )


async def managed_chats(session: AsyncSession, user_id: int) -> list[ChatRow]:
    """Active channels and groups this user connected, in a stable order."""
    rows = await session.scalars(
        select(ChatRow)
        .join(ChatManagerRow, ChatManagerRow.chat_id == ChatRow.id)
        .where(ChatManagerRow.user_id == user_id, ChatRow.active == true())
        .order_by(ChatRow.title, ChatRow.id)
    )
    return list(rows)


async def managers_of(session: AsyncSession, chat_pks: Sequence[int]) -> list[int]:
    if not chat_pks:
        return []
    rows = await session.scalars(
        select(ChatManagerRow.user_id).where(ChatManagerRow.chat_id.in_(list(chat_pks))).distinct()
    )
    return sorted(rows)


async def chats_at(session: AsyncSession, address: str) -> list[ChatRow]:
    """Every destination in one Telegram chat (the chat itself and its forum topics)."""
    return list(await session.scalars(select(ChatRow).where(ChatRow.address == address)))


async def move_chat_address(
    session: AsyncSession, old: str, new: str, kind: str, now: datetime
) -> int:
    """A group became a supergroup: its destinations follow it, settings kept."""
    moved = 0
    for row in await chats_at(session, old):
        if await find_chat(session, new, row.thread_id) is None:
            row.address, row.kind, row.updated_at = new, kind, now
            moved += 1
    await session.flush()
    return moved


async def chat_language(session: AsyncSession, address: str, thread_id: int = 0) -> str | None:
    """The language saved for a chat, None when the bot has no row for it."""
    language: str | None = await session.scalar(
        select(ChatRow.language).where(ChatRow.address == address, ChatRow.thread_id == thread_id)
    )
    return language


async def remove_chat_region(session: AsyncSession, chat_pk: int, region: str) -> None:
    """The destination no longer follows ``region`` (nothing happens if it did not)."""
    await session.execute(
        delete(ChatRegionRow).where(
            ChatRegionRow.chat_id == chat_pk, ChatRegionRow.region == region
        )
    )


async def private_chat_languages(session: AsyncSession, addresses: Sequence[str]) -> dict[str, str]:
    """The language each private chat at ``addresses`` chose (chats not found are left out)."""
    rows = await session.execute(
        select(ChatRow.address, ChatRow.language).where(
            ChatRow.kind == "private", ChatRow.address.in_(list(addresses))
        )
    )
    return {address: language for address, language in rows}
