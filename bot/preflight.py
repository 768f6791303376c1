"""``newsbot check --online``: ask the outside world whether this deployment can work.

The offline ``check`` reads the files; this asks the database (reachable, at the
latest migration) here, Telegram in ``bot.telegram.preflight`` (the token, each catalog
channel and the editors' chat, the webhook), and the feeds and most-read sources in
``scheduler.probe`` (with the poller's own fetcher); the command line wires them.
Every result is a :class:`Finding`: one line, naming its subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.script import ScriptDirectory

from bot.config import Settings
from bot.storage.engine import create_engine
from bot.storage.migrate import alembic_config, current_revision
from bot.storage.probes import ping_engine


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``subject: text``, a problem or a confirmation."""

    subject: str
    text: str
    problem: bool = False

    @property
    def line(self) -> str:
        return f"{self.subject}: {self.text}"


def ok(subject: str, text: str) -> Finding:
    return Finding(subject, text)


def problem(subject: str, text: str) -> Finding:
    return Finding(subject, text, problem=True)


async def check_database(settings: Settings) -> Finding:
    """Reachable and at the latest migration (``newsbot run`` would migrate it)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(settings.database_url)
    try:
        await ping_engine(engine)
        current = await current_revision(engine)
    except Exception as exc:
        return problem("NEWSBOT_DATABASE_URL", f"cannot connect: {type(exc).__name__}: {exc}")
    finally:
        await engine.dispose()
    if current != head:
        return problem(
            "database",
            f"at migration {current or 'none'}, the latest is {head}: run `newsbot db upgrade`",
        )
    return ok("database", f"reachable, at the latest migration ({head})")
