"""The newsroom the walkthrough runs in: the tests' example catalog with topics and Stars,
a clock set to whole minutes before screens that show a time, and stories with real-looking
summaries."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from bot.app import Parts
from bot.catalog import Catalog
from bot.storage.articles import NewArticle, insert_article
from bot.storage.deliveries import enqueue_article
from tests.e2e.support import make_catalog

# 10:00 UTC = 14:00 in Tbilisi and Yerevan: outside the default quiet hours.
START = datetime(2026, 3, 2, 10, 0)
TOPICS = [
    {"code": "economy", "name": {"en": "Economy", "ru": "Экономика"}, "categories": ["economy"]},
    {"code": "culture", "name": {"en": "Culture", "ru": "Культура"}, "categories": ["culture"]},
]


class StillClock:
    """Wall time that runs at real speed (the sender's short waits pass) and is set
    forward, to a whole minute, before each screen that shows a time, so that the document
    is the same from run to run. It never goes back (rows queued are due as they were)."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, when: datetime) -> None:
        self.start = when
        self.origin = time.monotonic()

    def at(self, when: datetime) -> None:
        """Jump forward to ``when`` (the walk's times are far apart: it never is behind)."""
        assert when >= self.now(), f"the walk took too long to reach {when}"
        self.set(when)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, **delta: float) -> None:
        self.set(self.now() + timedelta(**delta))


def catalog() -> Catalog:
    return make_catalog(
        [],
        topics=TOPICS,
        donate={
            "text": {
                "en": "Support independent journalism",
                "ru": "Поддержите независимую журналистику",
            },
            "links": [
                {
                    "label": {"en": "Support us", "ru": "Поддержать нас"},
                    "url": "https://caucasus-wire.example/support/",
                }
            ],
            "stars": {"amounts": [50, 250, 1000]},
        },
    )


#: Stories of the walkthrough: key -> (title, summary) per language.
STORIES = {
    "metro": {
        "en": (
            "Tbilisi opens a new metro line",
            "The line links Vake with the railway station; trains run every six minutes.",
        ),
        "ru": (
            "В Тбилиси открыли новую линию метро",
            "Линия связала Ваке с вокзалом; поезда ходят каждые шесть минут.",
        ),
    },
    "port": {
        "en": (
            "Batumi port expands",
            "A new container terminal doubles the port's capacity by 2028.",
        ),
        "ru": (
            "Порт Батуми расширяется",
            "Новый контейнерный терминал удвоит мощность порта к 2028 году.",
        ),
    },
    "airport": {
        "en": ("Kutaisi airport adds flights", "Three airlines open routes to Europe this spring."),
        "ru": (
            "Аэропорт Кутаиси добавляет рейсы",
            "Весной три авиакомпании откроют рейсы в Европу.",
        ),
    },
    "parliament": {
        "en": (
            "Parliament passes the budget",
            "The 2027 budget raises spending on schools and roads.",
        ),
        "ru": (
            "Парламент принял бюджет",
            "Бюджет на 2027 год увеличивает расходы на школы и дороги.",
        ),
    },
}


async def publish(
    parts: Parts, key: str, lang: str, now: datetime, topics: tuple[str, ...] = ()
) -> int:
    """A Georgian story arrives as the Ingestor stores it, with its outbox rows."""
    title, summary = STORIES[key][lang]
    url = f"https://caucasus-wire.example/{lang}/{key}/"
    async with parts.sessions.begin() as session:
        article = await insert_article(
            session,
            NewArticle(
                key=f"{key}-{lang}",
                url=url,
                canonical_url=url,
                title=title,
                summary=summary,
                language=lang,
                regions=("georgia",),
                feed_id=None,
                published_at=now,
                announced=True,
                topics=topics,
            ),
            now,
        )
        await enqueue_article(
            session, article, lang, ["georgia"], now, known_topics=("economy", "culture")
        )
    return article
