"""The soak bench in its 40-second form: random Bot API, feed and (on PostgreSQL) database
faults (the proxy freezing and dropping) plus SIGKILLs; no duplicate, losses within the
in-flight bound, no traceback.

Forty seconds hold two SIGKILLs (at about 15 and 30 s: the bench looks every 5 s) and, on
PostgreSQL, a freeze and a drop (the second fault comes by 28 s); the longer forms are
``bench/soak.py`` (10 minutes by default, figures in docs/benchmarks.md), with any
``--seconds`` and ``--kill-every``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import postgres_url

pytestmark = pytest.mark.exclusive

REPO = Path(__file__).resolve().parents[2]


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsbot_soak", REPO / "bench" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", "postgres"])
async def test_faults_and_kills_send_nothing_twice(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if db == "postgres" and postgres_url() is None:
        pytest.skip("PostgreSQL not configured")
    soak = load_soak()
    args = ["--seconds", "40", "--feeds", "5", "--subscribers", "300", "--kill-every", "15"]
    status = await asyncio.to_thread(soak.main, [*args, "--db", db, "--seed", "7"])
    out = capsys.readouterr().out
    assert "duplicates: 0 (must be 0)" in out, out
    assert "unhandled exceptions (tracebacks in the logs): 0" in out, out
    assert "2 SIGKILLs" in out, out
    if db == "postgres":  # the database's network failed both ways, more than once
        found = re.search(r"database proxy: (\d+) freezes, (\d+) drops", out)
        assert found is not None, out
        assert int(found[1]) >= 1 and int(found[2]) >= 1, out
    assert status == 0, out
