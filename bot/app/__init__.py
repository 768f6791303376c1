"""The composition root: the one place that builds every part and starts/stops them.

``bot`` core modules never import ``handlers`` or ``scheduler``; this package is the
exception by design (DESIGN.md "The shape", the first import contract in
pyproject.toml). Start order: database and migrations, HTTP session, services, then
Telegram, web, scheduler and sender; stop order is the reverse, and in-flight sends
are recorded before exit.

- :mod:`bot.app.database`: migrate and sync the catalog, waiting for the database;
- :mod:`bot.app.outbound`: the process's HTTP (session, guard, fetcher);
- :mod:`bot.app.parts`: build every part of one process (``assemble``);
- :mod:`bot.app.alerting`: editors' alerts through the outbox, dead-letter alerts;
- :mod:`bot.app.telegram_side`: the PTB application, its inbox, receiving updates;
- :mod:`bot.app.workers`: the scheduler and the sender, each under its leadership;
- :mod:`bot.app.commands`: ``newsbot run`` and ``newsbot poll --once``.
"""

from bot.app.commands import poll_once, run
from bot.app.database import prepare_database
from bot.app.outbound import Outbound, open_outbound
from bot.app.parts import Parts, assemble
from bot.app.telegram_side import receive_updates

__all__ = [
    "Outbound",
    "Parts",
    "assemble",
    "open_outbound",
    "poll_once",
    "prepare_database",
    "receive_updates",
    "run",
]
