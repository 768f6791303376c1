"""The deliveries aggregate, unknown fates: seen per article by operators, resent on purpose.

A row becomes ``unknown`` when the process stopped (or a request timed out) while it was
in flight: Telegram may or may not have it, so the sender never sends it again by itself
(a duplicate post is worse than a rare miss). Operators see these rows per article
(``/queue`` and the ``newsbot_outbox_unknown`` gauge) and may resend one article's to its
*channels* (``/resend``), after looking at the channel. Private chats and groups are never
resent: nobody can look there first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ArticleRow, ChatRow, OutboxRow, not_pending

RESENDABLE_KINDS = ("channel",)
RESENT_NOTE = "resent by an operator after an unknown outcome"


@dataclass(frozen=True, slots=True)
class UnknownArticle:
    """One article's deliveries of unknown fate, per audience."""

    article_id: int
    title: str
    channels: int
    groups: int
    private: int
    last_at: datetime  # when the latest of them became unknown

    @property
    def total(self) -> int:
        return self.channels + self.groups + self.private


def _audience(kind: str) -> str:
    if kind == "channel":
        return "channels"
    return "private" if kind == "private" else "groups"


async def unknown_by_article(session: AsyncSession, limit: int = 10) -> list[UnknownArticle]:
    """The ``limit`` articles whose unknown deliveries are the most recent, newest first."""
    recent = (
        select(OutboxRow.article_id, func.max(OutboxRow.updated_at).label("last_at"))
        .where(
            OutboxRow.state == "unknown", not_pending(), OutboxRow.article_id.is_not(None)
        )  # posts
        .group_by(OutboxRow.article_id)
        .order_by(func.max(OutboxRow.updated_at).desc(), OutboxRow.article_id.desc())
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(recent.c.article_id, recent.c.last_at, ArticleRow.title, ChatRow.kind, func.count())
        .join(ArticleRow, ArticleRow.id == recent.c.article_id)
        .join(OutboxRow, OutboxRow.article_id == recent.c.article_id)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.state == "unknown", not_pending())
        .group_by(recent.c.article_id, recent.c.last_at, ArticleRow.title, ChatRow.kind)
    )
    counts: dict[int, Counter[str]] = {}
    about: dict[int, tuple[str, datetime]] = {}
    for article_id, last_at, title, kind, count in rows:
        counts.setdefault(article_id, Counter())[_audience(kind)] += int(count)
        about[article_id] = (title, last_at)
    articles = [
        UnknownArticle(
            article_id=article_id,
            title=about[article_id][0],
            channels=tally["channels"],
            groups=tally["groups"],
            private=tally["private"],
            last_at=about[article_id][1],
        )
        for article_id, tally in counts.items()
    ]
    return sorted(articles, key=lambda a: (a.last_at, a.article_id), reverse=True)


async def unknown_counts(session: AsyncSession) -> dict[str, int]:
    """Unknown deliveries per audience (channels, groups, private), for the gauge."""
    rows = await session.execute(
        select(ChatRow.kind, func.count())
        .select_from(OutboxRow)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.state == "unknown", not_pending())
        .group_by(ChatRow.kind)
    )
    counts = {"channels": 0, "groups": 0, "private": 0}
    for kind, count in rows:
        counts[_audience(kind)] += int(count)
    return counts


async def resend_to_channels(
    session: AsyncSession, article_id: int, now: datetime
) -> tuple[list[tuple[int, str]], int]:
    """Queue the article again for the channels whose delivery is unknown.

    Returns the channels (chat id, address), and how many unknown deliveries to other
    chats (groups, private) stay as they are.
    """
    channel_ids = select(ChatRow.id).where(
        ChatRow.kind.in_(RESENDABLE_KINDS), ChatRow.active.is_(True), ChatRow.paused.is_(False)
    )
    requeued = await session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.article_id == article_id,
            OutboxRow.state == "unknown",
            OutboxRow.chat_id.in_(channel_ids),
        )
        .values(state="pending", next_attempt_at=now, updated_at=now, last_error=RESENT_NOTE)
        .returning(OutboxRow.chat_id)
        .execution_options(synchronize_session=False)
    )
    chat_ids = [int(chat_id) for (chat_id,) in requeued]
    channels: list[tuple[int, str]] = []
    if chat_ids:
        found = await session.execute(
            select(ChatRow.id, ChatRow.address).where(ChatRow.id.in_(chat_ids))
        )
        channels = [(int(chat_id), str(address)) for chat_id, address in found]
    others = await session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.article_id == article_id, OutboxRow.state == "unknown")
    )
    return sorted(channels, key=lambda channel: channel[1]), int(others or 0)
