"""Fixtures of the delivery tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.botapi import FakeBotAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API enforcing limits, at a raised global rate (100/s) for quick tests."""
    async with FakeBotAPI(global_rate=100) as fake:
        yield fake
