"""Repository functions: the SQL the rest of the program needs, in one place.

Each takes an ``AsyncSession`` and leaves committing to the caller, so a
service can group several of them into one transaction (an article and its
outbox rows are written together: DESIGN.md decision 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    DateTime,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import Catalog
from bot.localtime import DEFAULT_DIGEST_MINUTE, DEFAULT_QUIET, quiet_until
from bot.storage.editions import language_condition
from bot.storage.follows import follow_condition
from bot.storage.models import (
    ArticleRegionRow,
    ArticleRow,
    ArticleTopicRow,
    AuditRow,
    ChatManagerRow,
    ChatRegionRow,
    ChatRow,
    FeedRow,
    OutboxRow,
)
from bot.text.search import searchable

ALL_REGIONS = "*"
PRIORITY = {"channel": 0, "supergroup": 1, "group": 1, "private": 2}
#: Breaking news rows take their chat's priority minus this: ahead of every other row.
BREAKING_AHEAD = 3


def insert_ignoring_conflicts(
    session: AsyncSession, table: type[object]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ``ON CONFLICT DO NOTHING`` support on both databases."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def ensure_feed(session: AsyncSession, url: str) -> FeedRow:
    """The polling state row of a catalog feed, created on first sight."""
    row = await session.scalar(select(FeedRow).where(FeedRow.url == url))
    if row is None:
        row = FeedRow(url=url, current_url=url, initialized=False, disabled=False)
        row.consecutive_failures = 0
        row.alerted = False
        session.add(row)
        await session.flush()
    return row


def _guess_kind(address: str) -> str:
    if address.startswith("@"):
        return "channel"
    return "private" if int(address) > 0 else "channel"


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


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    rows = await session.scalars(select(ArticleRow.key).where(ArticleRow.key.in_(list(keys))))
    return set(rows)


async def known_canonical_urls(session: AsyncSession, urls: Sequence[str]) -> set[str]:
    if not urls:
        return set()
    rows = await session.scalars(
        select(ArticleRow.canonical_url).where(ArticleRow.canonical_url.in_(list(urls)))
    )
    return set(rows)


@dataclass(frozen=True, slots=True)
class NewArticle:
    key: str
    url: str
    canonical_url: str
    title: str
    summary: str
    language: str
    regions: tuple[str, ...]
    feed_id: int | None
    published_at: datetime | None
    announced: bool
    image_url: str = ""
    breaking: bool = False
    topics: tuple[str, ...] = ()


async def insert_article(session: AsyncSession, article: NewArticle, now: datetime) -> int:
    row = ArticleRow(
        key=article.key,
        url=article.url,
        canonical_url=article.canonical_url,
        title=article.title,
        summary=article.summary,
        language=article.language,
        regions=" ".join(article.regions),
        feed_id=article.feed_id,
        published_at=article.published_at,
        created_at=now,
        updated_at=now,
        announced=article.announced,
        image_url=article.image_url,
        breaking=article.breaking,
        search_text=searchable(article.title, article.summary),
    )
    session.add(row)
    await session.flush()
    if article.regions:
        await session.execute(
            insert_ignoring_conflicts(session, ArticleRegionRow),
            [{"article_id": row.id, "region": code} for code in article.regions],
        )
    if article.topics:
        await session.execute(
            insert_ignoring_conflicts(session, ArticleTopicRow),
            [{"article_id": row.id, "topic": code} for code in article.topics],
        )
    return row.id


async def enqueue_article(
    session: AsyncSession,
    article_id: int,
    language: str,
    regions: Sequence[str],
    now: datetime,
    *,
    unmatched_to_all: bool = True,
    breaking: bool = False,
    among: ColumnElement[bool] | None = None,
    known_topics: Sequence[str] | None = None,
) -> int:
    """Create one outbox row per matching destination, in one statement.

    A destination matches when it is active, not paused, in the article's language (a
    reader may follow several: :func:`bot.storage.editions.language_condition`),
    subscribed to one of its regions (or to all regions) and in instant mode. An
    article without regions goes to the destinations that take all regions, and with
    ``unmatched_to_all`` (``[outlet] unmatched = "all"``) to every destination of its
    language. A chat that chose topics or keywords gets only articles that match one
    (:func:`bot.storage.follows.follow_condition`; only topics among ``known_topics``,
    the catalog's, count as chosen). Rows for readers who are in their
    quiet hours right now are due when those end (``next_attempt_at``), decided in the
    same INSERT ... SELECT.

    Breaking news goes ahead of every queued delivery (priority lowered by
    :data:`BREAKING_AHEAD`), also to digest readers who kept breaking alerts on, and
    skips their quiet hours; in channels that pin breaking posts the row carries the
    time to unpin it. ``among`` narrows the destinations (one kind of chat, a range of
    ids: :mod:`bot.storage.fanout`). Returns the number of rows created.
    """
    chat = ChatRow.__table__.c
    region_match = exists().where(ChatRegionRow.chat_id == chat.id)
    if regions or not unmatched_to_all:
        region_match = region_match.where(ChatRegionRow.region.in_([*regions, ALL_REGIONS]))
    mode = chat.mode == "instant"
    if breaking:
        mode = or_(mode, chat.breaking_alerts == true())
    wanted = and_(
        chat.active == true(),
        chat.paused == false(),
        mode,
        await language_condition(session, article_id, language),
    )
    if among is not None:
        wanted = and_(wanted, among)
    due = await _due_after_quiet_hours(session, wanted, now, breaking=breaking)
    priority = chat.priority - BREAKING_AHEAD if breaking else chat.priority
    unpin = await _unpin_time(session, wanted, now) if breaking else literal(None, DateTime)
    chosen = select(
        literal(article_id),
        chat.id,
        literal("pending"),
        priority,
        literal(0),
        due,
        literal(now),
        literal(now),
        false(),
        unpin,
    ).where(and_(wanted, region_match, await follow_condition(session, article_id, known_topics)))
    stmt = (
        insert_ignoring_conflicts(session, OutboxRow)
        .from_select(
            [
                "article_id",
                "chat_id",
                "state",
                "priority",
                "attempts",
                "next_attempt_at",
                "created_at",
                "updated_at",
                "plain_text",
                "unpin_at",
            ],
            chosen,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def _unpin_time(
    session: AsyncSession, wanted: ColumnElement[bool], now: datetime
) -> ColumnElement[datetime | None]:
    """``unpin_at`` for a breaking post: ``now`` plus the chat's ``pin_breaking_hours``
    for channels and groups that pin, else NULL (a CASE over the few distinct values)."""
    chat = ChatRow.__table__.c
    pins = and_(chat.kind != "private", chat.pin_breaking_hours > 0)
    hours = await session.scalars(select(chat.pin_breaking_hours).where(wanted, pins).distinct())
    whens = [
        (and_(pins, chat.pin_breaking_hours == h), literal(now + timedelta(hours=h), DateTime))
        for h in hours
    ]
    if not whens:
        return literal(None, DateTime)
    return case(*whens, else_=literal(None, DateTime))


async def _due_after_quiet_hours(
    session: AsyncSession, wanted: ColumnElement[bool], now: datetime, *, breaking: bool = False
) -> ColumnElement[datetime]:
    """``next_attempt_at`` for the enqueue: ``now``, or the end of the reader's quiet hours.

    Quiet hours depend on (time zone, start, end), and readers share few distinct
    combinations, so those are read first (one DISTINCT query) and the ones quiet at
    ``now`` become a CASE inside the INSERT ... SELECT: no second pass over the rows.
    Only private chats have quiet hours; channels and groups post at once. Breaking news
    waits only for readers who turned breaking alerts off.
    """
    chat = ChatRow.__table__.c
    private = and_(chat.kind == "private", chat.quiet_start.is_not(None))
    if breaking:
        private = and_(private, chat.breaking_alerts == false())
    groups = await session.execute(
        select(chat.timezone, chat.quiet_start, chat.quiet_end)
        .where(wanted, private, chat.quiet_end.is_not(None))
        .distinct()
    )
    whens = []
    for tz, start, end in groups.all():
        until = quiet_until(now, tz, start, end)
        if until is not None:
            match = and_(
                private, chat.timezone == tz, chat.quiet_start == start, chat.quiet_end == end
            )
            whens.append((match, literal(until, DateTime)))
    if not whens:
        return literal(now, DateTime)
    return case(*whens, else_=literal(now, DateTime))


async def latest_articles(
    session: AsyncSession, language: str, limit: int, region: str | None = None
) -> list[ArticleRow]:
    query = select(ArticleRow).where(ArticleRow.language == language)
    if region:
        query = query.where(
            exists().where(
                ArticleRegionRow.article_id == ArticleRow.id, ArticleRegionRow.region == region
            )
        )
    query = query.order_by(ArticleRow.created_at.desc(), ArticleRow.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
    return {state: int(count) for state, count in rows}


async def touch_feed(session: AsyncSession, feed_id: int, **values: object) -> None:
    await session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(**values))


# ---- subscribers, managed chats and the audit log ----------------------------------------


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


async def drop_open_deliveries(session: AsyncSession, chat_pk: int, now: datetime, why: str) -> int:
    """Pending deliveries to a chat that no longer wants them are dropped, not sent."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == chat_pk, OutboxRow.state.in_(("pending", "retry")))
        .values(state="dropped", last_error=why, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


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
