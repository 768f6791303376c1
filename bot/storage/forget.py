"""Deleting a chat or an article for good, with its deliveries.

The outbox has no foreign keys (migration 0025: they cost about 40 % of each row a
million-reader fan-out writes), so nothing removes a deleted chat's or article's outbox
rows by cascade, and a row left behind would be claimed without the chat or article the
sender joins it with. Nothing in the bot deletes either today: a chat that leaves is
deactivated (its pending rows dropped) and kept, an article is kept as the key that
recognises it again (retention empties its summary only). Whatever deletes one must do it
here, where the deliveries go first, in the same transaction; the other tables that refer
to chats and articles keep their foreign keys and follow by cascade.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ArticleRow, ChatRow, OutboxRow


async def forget_chat(session: AsyncSession, chat_pk: int) -> int:
    """Delete the chat, its deliveries and the edits queued for them; returns the
    deliveries deleted."""
    posts = select(OutboxRow.id).where(OutboxRow.chat_id == chat_pk)
    result = await session.execute(
        delete(OutboxRow).where(or_(OutboxRow.chat_id == chat_pk, OutboxRow.target_id.in_(posts)))
    )
    await session.execute(delete(ChatRow).where(ChatRow.id == chat_pk))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_article(session: AsyncSession, article_id: int) -> int:
    """Delete the article, its deliveries and the edits queued for them; returns the
    deliveries deleted."""
    posts = select(OutboxRow.id).where(OutboxRow.article_id == article_id)
    result = await session.execute(
        delete(OutboxRow).where(
            or_(OutboxRow.article_id == article_id, OutboxRow.target_id.in_(posts))
        )
    )
    await session.execute(delete(ArticleRow).where(ArticleRow.id == article_id))
    return int(getattr(result, "rowcount", 0) or 0)
