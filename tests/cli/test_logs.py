"""Logs: JSON lines with fields (``NEWSBOT_LOG_FORMAT=json``), masked like text lines, and
poll lines in plain words."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

from bot.logs import JsonFormatter
from bot.redact import SecretMask
from tests.cli.test_check import REPO, newsbot

SECRET = "7zVx-very-secret-ingest-key"


def json_logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretMask([SECRET]))
    logger = logging.getLogger("tests.json_lines")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_json_line_has_the_fields_and_no_secret() -> None:
    stream = io.StringIO()
    logger = json_logger(stream)
    logger.info("sent article %d with key %s", 17, SECRET, extra={"article_id": 17, "chat": "@x"})
    try:
        raise RuntimeError(f"refused {SECRET}")
    except RuntimeError:
        logger.exception("delivery failed", extra={"feed": "https://o.example/feed"})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "tests.json_lines"
    assert first["message"] == "sent article 17 with key ***"
    assert (first["article_id"], first["chat"]) == (17, "@x")
    assert first["time"].endswith("+00:00")
    assert second["feed"] == "https://o.example/feed"
    assert "RuntimeError: refused ***" in second["exc"]
    assert SECRET not in stream.getvalue()


def test_poll_once_logs_json_lines_in_plain_words(tmp_path: Path) -> None:
    result = newsbot(
        "poll",
        "--once",
        "--dry-run",
        cwd=tmp_path,
        env={
            "NEWSBOT_CATALOG": str(REPO / "catalog.example.toml"),
            "NEWSBOT_LOG_FORMAT": "json",
        },
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    polls = [r for r in records if r["logger"] == "scheduler.ingest" and "feed" in r]
    english = next(r for r in polls if r["feed"].endswith("/samples/feeds/en.xml"))
    # The sample feed lists 6 items; the catalog's backlog of 3 announces the newest three.
    assert re.search(
        r": 6 entries, 3 new articles announced \(\d+ messages\), 3 older marked seen$",
        english["message"],
    ), english
    assert not [
        r for r in records if r["logger"].startswith("alembic") and "plugin" in r["message"]
    ]


def test_an_unknown_log_format_is_a_configuration_error(tmp_path: Path) -> None:
    result = newsbot(
        "check",
        cwd=tmp_path,
        env={"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml"), "NEWSBOT_LOG_FORMAT": "xml"},
    )
    assert result.returncode == 2
    assert "NEWSBOT_LOG_FORMAT" in result.stderr
