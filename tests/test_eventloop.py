"""The bot runs on uvloop when it is installed, and on asyncio's loop when told to."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from bot import eventloop


async def _name() -> str:
    await asyncio.sleep(0)
    return eventloop.loop_name()


def test_uvloop_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV_VAR, raising=False)
    if importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop has no wheel on this platform")
    assert eventloop.run(_name()) == "uvloop"


def test_asyncio_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV_VAR, "asyncio")
    assert eventloop.loop_factory() is None
    assert eventloop.run(_name()) == "asyncio"
