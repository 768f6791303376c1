"""The database at start: migrated to the newest revision, the catalog's feeds and
channels synced, waiting up to ``NEWSBOT_DB_WAIT`` for it to answer."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import Catalog
from bot.clock import Clock
from bot.config import Settings
from bot.errors import ConfigError
from bot.startup import sqlite_file_problem, wait_for_database
from bot.storage.chats import sync_catalog_channels
from bot.storage.engine import create_engine, session_factory
from bot.storage.feeds import ensure_feed
from bot.storage.migrate import upgrade


async def prepare_database(settings: Settings, catalog: Catalog, clock: Clock) -> AsyncEngine:
    """Migrate and sync the catalog, waiting up to ``NEWSBOT_DB_WAIT`` for the database."""
    problem = sqlite_file_problem(settings.database_url)
    if problem is not None:
        raise ConfigError([problem])
    engine = create_engine(settings.database_url)

    async def prepare() -> AsyncEngine:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            for feed in catalog.feeds:
                await ensure_feed(session, feed.url)
            await sync_catalog_channels(session, catalog, clock.now())
        return engine

    try:
        return await wait_for_database(prepare, settings.db_wait)
    except Exception:
        await engine.dispose()
        # aiosqlite stops a failed connection's thread with a reply to this loop: let it
        # arrive before the loop closes, or the thread prints a traceback of its own.
        await asyncio.sleep(0.2)
        raise
    except BaseException:
        await engine.dispose()
        raise
