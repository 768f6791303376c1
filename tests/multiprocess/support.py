"""Worker processes and their logs, for the multi-process tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.crash.support import start_bot


async def start_worker(workdir: Path, env: dict[str, str], name: str) -> asyncio.subprocess.Process:
    return await start_bot(workdir, env, f"{name}.log", "--role", "worker")


async def wait_for_log(path: Path, text: str, within: float) -> float:
    """Wait until the log at ``path`` contains ``text``; returns the monotonic time seen."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{path.name} never said {text!r}:\n{path.read_text(errors='replace')[-3000:]}"
    )
