"""Migration 0020 folds the stories already stored in the search window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade


async def test_recent_stories_are_searchable_after_the_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0019")
        now = datetime.now(UTC).replace(tzinfo=None)
        async with engine.begin() as conn:
            for n, age in enumerate((1, 90)):
                created = now - timedelta(days=age)
                await conn.execute(
                    text(
                        "INSERT INTO articles (key, url, canonical_url, title, summary, language,"
                        " regions, created_at, updated_at, announced, alternates, text_source,"
                        " image_url, breaking) VALUES (:k, :u, :u, :t, 'Всё', 'ru', '', :c, :c,"
                        " true, '', 'feed', '', false)"
                    ),
                    {"k": f"k{n}", "u": f"https://x.example/{n}", "t": "ВЫБОРЫ", "c": created},
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT key, search_text FROM articles"))).all()
        assert dict(rows) == {"k0": "выборы\nвсе", "k1": ""}
    finally:
        await engine.dispose()
