"""The ``newsbot`` command line (CONTRACT.md "Command line").

Exit codes: 0 success, 2 configuration error (one line per problem on stderr,
no traceback), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from bot import eventloop
from bot.catalog import Catalog, load_catalog
from bot.config import Settings, load_settings, problems_for_mode
from bot.errors import ConfigError, StartFailure
from bot.logs import JsonFormatter
from bot.redact import SecretMask, install, masked

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2

log = logging.getLogger("newsbot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Telegram distribution bot for newsrooms"
    )
    parser.add_argument("--catalog", type=Path, help="catalog file (overrides NEWSBOT_CATALOG)")
    parser.add_argument("--version", action="version", version=f"newsbot {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot until SIGINT/SIGTERM")
    run.add_argument(
        "--dry-run", action="store_true", help="print messages instead of sending them"
    )
    run.add_argument("--role", choices=("all", "web", "worker"), default="all")

    poll = commands.add_parser("poll", help="poll every feed")
    poll.add_argument("--once", action="store_true", required=True, help="one poll, then exit")
    poll.add_argument(
        "--dry-run", action="store_true", help="print messages instead of sending them"
    )

    check = commands.add_parser("check", help="validate settings and catalog")
    check.add_argument(
        "--dry-run", action="store_true", help="accepted for compatibility; check needs no token"
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Telegram, the database, the feeds and the most-read sources",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations")
    db_commands.add_parser("prune", help="delete what retention allows now")
    backup = db_commands.add_parser(
        "backup", help="copy the database while the bot runs (PostgreSQL: print pg_dump)"
    )
    backup.add_argument("path", type=Path, help="the backup file to create")
    return parser


def package_version() -> str:
    """The installed distribution's version (``pyproject.toml``), for ``--version``."""
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, every record masked of the secrets
    (the token is in every Bot API URL that libraries log at DEBUG)."""
    level = settings.log_level
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    install(SecretMask(settings.secret_values()))
    quiet = ("httpx", "apscheduler", "aiohttp.access", "telegram.ext.Updater")
    for noisy in (*quiet, "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # Alembic's "Running upgrade a -> b" lines are worth keeping; its set-up chatter is not.
    migration = logging.getLogger("alembic.runtime.migration")
    if _alembic_chatter not in migration.filters:
        migration.addFilter(_alembic_chatter)


def _alembic_chatter(record: logging.LogRecord) -> bool:
    """False for Alembic's per-connection set-up lines (``Context impl …``, ``Will
    assume …``), which every start and every migration check would print."""
    return not str(record.msg).startswith(("Context impl", "Will assume"))


def load_config(args: argparse.Namespace, *, needs_token: bool | None) -> tuple[Settings, Catalog]:
    """Settings and catalog together, every problem of both collected into one error.

    ``needs_token=None`` checks a token only when one is set (``newsbot check``).
    """
    problems: list[str] = []
    settings: Settings | None = None
    catalog: Catalog | None = None
    try:
        overrides = {"catalog": args.catalog} if args.catalog else {}
        settings = load_settings(**overrides)
    except ConfigError as exc:
        problems += exc.problems
    if settings is not None:
        token_rules = settings.bot_token is not None if needs_token is None else needs_token
        problems += problems_for_mode(settings, needs_token=token_rules)
    # The catalog is checked even when a setting is wrong, so one run shows every problem.
    catalog_path = (
        settings.catalog
        if settings
        else Path(args.catalog or os.environ.get("NEWSBOT_CATALOG") or "catalog.toml")
    )
    try:
        catalog = load_catalog(catalog_path)
    except ConfigError as exc:
        problems += exc.problems
    if problems or settings is None or catalog is None:
        raise ConfigError(problems)
    return settings, catalog


async def _run(settings: Settings, catalog: Catalog, dry_run: bool, role: str) -> None:
    from bot.app import run
    from bot.heap import freeze_startup_heap

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(
        settings, catalog, dry_run=dry_run, stop=stop, role=role, on_started=freeze_startup_heap
    )


async def _poll(settings: Settings, catalog: Catalog, dry_run: bool) -> int:
    from bot.app import poll_once

    reports = await poll_once(settings, catalog, dry_run=dry_run)
    for report in reports:
        log.info("%s: %s", report.url, report.in_words(), extra={"feed": report.url})
    return EXIT_OK


async def _db_upgrade(settings: Settings) -> None:
    from bot.storage.engine import create_engine
    from bot.storage.migrate import current_revision, upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        log.info("database at revision %s", await current_revision(engine))
    finally:
        await engine.dispose()


async def _db_prune(settings: Settings) -> None:
    """``newsbot db prune``: what the hourly retention job does, now, once."""
    from bot.clock import SystemClock
    from bot.retention import Retention
    from bot.storage.engine import create_engine, session_factory
    from bot.storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        retention = Retention(
            session_factory(engine),
            SystemClock(),
            keep_deliveries_days=settings.keep_deliveries_days,
            keep_articles_days=settings.keep_articles_days,
        )
        print(f"pruned: {await retention.prune()}")
    finally:
        await engine.dispose()


async def _check_online(settings: Settings, catalog: Catalog) -> int:
    """Every finding on one line: confirmations on stdout, problems on stderr; exit 2
    when there is any problem."""
    from telegram import Bot

    from bot.app import open_outbound
    from bot.preflight import check_database
    from bot.telegram.preflight import check_telegram
    from bot.telegram.transport import telegram_request
    from scheduler.probe import probe_sources

    api = settings.telegram_api_url
    net = open_outbound(settings, catalog)
    try:
        bot = Bot(
            settings.token,
            base_url=f"{api}/bot",
            request=telegram_request(settings.telegram_transport, net.http),
        )
        findings = [
            *await check_telegram(bot, settings, catalog),
            await check_database(settings),
            *await probe_sources(net.fetcher, catalog),
        ]
    finally:
        await net.close()
    for finding in findings:
        if finding.problem:
            print(f"newsbot: problem: {masked(finding.line)}", file=sys.stderr)
        else:
            print(f"ok: {masked(finding.line)}")
    problems = sum(finding.problem for finding in findings)
    print(f"{problems} problem{'s' if problems != 1 else ''} found" if problems else "all well")
    return EXIT_CONFIG if problems else EXIT_OK


def unmatched_line(catalog: Catalog) -> str:
    """What ``newsbot check`` says about articles that match no region."""
    choice = catalog.outlet.unmatched
    where = {
        "none": "posted to no region's channels or readers (only to chats taking every region)",
        "all": "posted to every region of their language",
    }.get(choice, f"posted to {choice}")
    return f"unmatched articles (outlet.unmatched = {choice!r}): {where}"


def _db_backup(settings: Settings, target: Path) -> int:
    """SQLite: an online copy at ``target``; PostgreSQL: the pg_dump command to run."""
    from bot.storage.backup import backup_sqlite, postgres_instructions, sqlite_path

    source = sqlite_path(settings.database_url)
    if source is None:
        print(postgres_instructions(settings.database_url, target))
        return EXIT_OK
    done = backup_sqlite(source, target)
    print(f"backed up {done.source} to {done.target} ({done.size} bytes, integrity ok)")
    return EXIT_OK


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "check" and args.online:
        settings, catalog = load_config(args, needs_token=True)
        configure_logging(settings)
        return asyncio.run(_check_online(settings, catalog))
    if args.command == "check":
        # The files are checked without a token (.env.example says so); a token that is
        # set is still checked for its shape by the rules of the run modes.
        settings, catalog = load_config(args, needs_token=None)
        print(
            f"ok: {len(catalog.regions)} regions, {len(catalog.languages)} languages, "
            f"{len(catalog.feeds)} feeds, {len(catalog.channels)} channels"
        )
        print(unmatched_line(catalog))
        return EXIT_OK
    if args.command == "db" and args.db_command == "backup":
        settings = load_settings(**({"catalog": args.catalog} if args.catalog else {}))
        return _db_backup(settings, args.path)
    if args.command == "db":
        settings = load_settings(**({"catalog": args.catalog} if args.catalog else {}))
        configure_logging(settings)
        if args.db_command == "prune":
            asyncio.run(_db_prune(settings))
            return EXIT_OK
        asyncio.run(_db_upgrade(settings))
        return EXIT_OK
    dry_run = bool(getattr(args, "dry_run", False))
    settings, catalog = load_config(args, needs_token=not dry_run)
    configure_logging(settings)
    if args.command == "poll":
        return eventloop.run(_poll(settings, catalog, dry_run))
    eventloop.run(_run(settings, catalog, dry_run, args.role))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    # PTB's forward-compatible durations (retry_after as timedelta); both forms are handled.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"newsbot: configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK
    except StartFailure as exc:
        log.debug("start failed", exc_info=exc)
        print(f"newsbot: error: {masked(str(exc))}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        # One line for the operator; the traceback only for who asked for DEBUG.
        log.debug("newsbot stopped", exc_info=exc)
        print(f"newsbot: error: {masked(one_line(exc))}", file=sys.stderr)
        return EXIT_FAILURE


def one_line(exc: BaseException) -> str:
    """``Type: message`` on a single line (a message may span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
