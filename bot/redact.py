"""Secrets never reach the logs: a logging filter that masks them in every record.

The bot token sits in every Bot API URL (``{base}/bot{token}/{method}``), and
python-telegram-bot, aiohttp and httpx put that URL in DEBUG lines, in exception
messages (``InvalidToken`` quotes the token) and so in tracebacks. Rather than
hunt each place down, every record is masked on its way to a handler: the
formatted message, the exception text (formatted here once, masked, and cached
in ``exc_text`` so no formatter formats the raw exception again), the stack
text and any string passed in ``extra``. The same masking serves the few lines
the command line prints itself (:meth:`SecretMask.mask`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"
# Shorter values are not masked: masking "a" everywhere would garble every line, and
# ``newsbot check`` refuses secrets that short anyway.
MIN_MASKED = 6
_FORMATTER = logging.Formatter()
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


def token_secret(token: str) -> str:
    """What of a bot token must be hidden: its secret half (after ``:``), so that a
    masked URL still names the bot (``/bot123456:***/getMe``); the whole token when it
    has no secret half long enough to mask."""
    _bot_id, _, secret = token.partition(":")
    return secret if len(secret) >= MIN_MASKED else token


class SecretMask(logging.Filter):
    """Replaces each secret (and its percent-encoded form) with ``***`` in a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_MASKED:
                variants.update({secret, quote(secret, safe=""), quote(secret)})
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place (idempotent) and always keep it."""
        if not self._secrets:
            return True
        record.msg = self.mask(_message(record))
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = record.exc_text or _FORMATTER.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, self.mask(value))
        return True


def _message(record: logging.LogRecord) -> str:
    """The formatted message; a record whose arguments do not fit its format (which
    logging would report with the raw arguments) becomes its parts side by side."""
    try:
        return record.getMessage()
    except Exception:
        return f"{record.msg!s} {record.args!r}"


_installed = SecretMask(())


def install(mask: SecretMask, logger: logging.Logger | None = None) -> None:
    """Add ``mask`` to every handler of ``logger`` (the root logger by default), and
    make it the one :func:`masked` uses for what the process prints itself.

    On handlers, not on the logger: records from other loggers reach the root's
    handlers by propagation, and a logger's own filters never see those.
    """
    global _installed
    _installed = mask
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if mask not in handler.filters:
            handler.addFilter(mask)


def masked(text: str) -> str:
    """``text`` with the installed secrets masked (for lines printed outside logging)."""
    return _installed.mask(text)
