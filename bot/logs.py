"""Structured logs (``NEWSBOT_LOG_FORMAT=json``): one JSON object per line, stdlib only.

Log collectors (Loki, Elasticsearch, journald's JSON output) index fields, not prose:
each line carries ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus
every field a call passed in ``extra`` (``feed``, ``article_id``, ``chat``) and the
traceback as ``exc``. The secret mask (``bot.redact``) is a filter on the same handler,
so it runs before this formatter and the JSON holds masked text only.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value if _plain(value) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
