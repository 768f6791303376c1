"""Fakes for the outside world, each at its real boundary (a local server, not a mock)."""

from tests.fakes.botapi import (
    DEFAULT_TOKEN,
    FakeBotAPI,
    LimitViolation,
    RecordedRequest,
    SentMessage,
    UploadedFile,
    ptb_bot,
)

__all__ = [
    "DEFAULT_TOKEN",
    "FakeBotAPI",
    "LimitViolation",
    "RecordedRequest",
    "SentMessage",
    "UploadedFile",
    "ptb_bot",
]
