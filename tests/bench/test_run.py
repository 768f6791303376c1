"""``bench/run.py`` assembles its table and JSON from the steps' raw figures.

The heavy benches are not run here: a saved set of raw figures is replayed through the
runner's own command line (``--replay``), so a change to a bench's output or to the
runner's reading of it fails here rather than at the end of an hour's run.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
KEYS = [
    "poll_to_channel_1m_pg_s",
    "enqueue_1m_pg_s",
    "rate_30_latency50_pct",
    "rate_30_latency100_pct",
    "rate_1000_pg_min_pct",
    "cpu_per_msg_30_ms",
    "cpu_per_msg_1000_ms",
    "stock_ptb_ratio_30",
    "cpu_per_304_feed_ms",
    "extract_per_s",
    "loop_lag_ms",
    "rss_10k_mb",
    "rss_1m_mb",
]


def fanout_run(rate: float, share: float, cpu: float) -> dict[str, Any]:
    """One run as ``bench/fanout.py --json`` writes it (the fields the runner reads)."""
    return {
        "rate": rate,
        "window_rate": rate * share,
        "total_cpu_ms_per_msg": cpu,
        "pg_cpu_ms_per_msg": 0.05,
        "stock_cpu_ms_per_msg": 4 * cpu,
        "stock_ratio": 4.0,
    }


def step(figures: Any) -> dict[str, Any]:
    return {
        "command": "bench/x.py",
        "seconds": 1.0,
        "load": [6.0, 7.5],
        "exit": 0,
        "figures": figures,
    }


def raw_figures() -> dict[str, Any]:
    return {
        "channels_first": step(
            [
                {
                    "channel_post_s": 0.5,
                    "first_private_s": 4.0,
                    "fanout_done_s": 80.0,
                    "commit_s": 0.4,
                }
            ]
        ),
        "enqueue": step(
            {"subscribers": 100000, "enqueue_1m_pg_s": 21.0, "enqueue_1m_sqlite_s": 4.5}
        ),
        "fanout_30": step([fanout_run(30, 0.98, 0.25), fanout_run(30, 0.965, 0.28)]),
        "fanout_30_slow": step([fanout_run(30, 0.97, 0.25)]),
        "fanout_1000": step([fanout_run(1000, 0.95, 0.4)]),  # CPU over the target
        "polls": step({"cpu_per_304_feed_ms": 0.8, "max_lag_s": 1.5}),
        "extract": step({"extract_per_s": 95.0, "loop_lag_ms": 40.0}),
        "rss_10k": step({"peak_rss_mb": 120.0}),
        "rss_1m": step({"peak_rss_mb": 180.0}),  # grew with the subscribers
        "sentences": {"command": "bench/sentences.py", "load": [1.0, 1.0], "error": "no figures"},
    }


def replay(tmp_path: Path, raw: dict[str, Any]) -> list[str]:
    saved = tmp_path / "raw.json"
    saved.write_text(json.dumps({"settings": {"quick": True}, "raw": raw, "logs": "x"}))
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--replay", str(saved)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    return done.stdout.splitlines()


def line_of(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_last_line_is_the_json_with_every_key(tmp_path: Path) -> None:
    lines = replay(tmp_path, raw_figures())
    figures = json.loads(lines[-1])
    assert list(figures) == KEYS
    assert figures["rate_30_latency50_pct"] == 96.5  # the worst run, not the median
    assert figures["cpu_per_msg_30_ms"] == 0.265  # the median of the runs
    assert figures["poll_to_channel_1m_pg_s"] == 0.5
    assert figures["rss_1m_mb"] == 180.0
    # Every private row written (bench/enqueue.py), not the first chunk of channels_first.
    assert figures["enqueue_1m_pg_s"] == 21.0


def test_verdicts_follow_the_targets(tmp_path: Path) -> None:
    lines = replay(tmp_path, raw_figures())
    assert line_of(lines, "30/s, answers 50").split()[-2] == "MISSED"  # 96.5 < 97
    assert "ok" in line_of(lines, "30/s, answers 100").split()
    assert "MISSED" in line_of(lines, "CPU per message at 1000/s").split()
    assert "MISSED" in line_of(lines, "whole bot peak RSS, 1 000 000").split()
    assert "ok" in line_of(lines, "304 poll cycle").split()
    assert "MISSED" in line_of(lines, "enqueue every private row, PostgreSQL").split()
    assert "ok" in line_of(lines, "enqueue every private row, SQLite").split()
    assert "load" in lines[1] and "6.0-7.5" in line_of(lines, "poll -> channel post")


def test_a_step_that_gave_nothing_is_not_measured(tmp_path: Path) -> None:
    raw = raw_figures()
    del raw["polls"]
    raw["extract"] = {"command": "bench/extract.py", "load": [9.0, 9.0], "error": "no figures"}
    lines = replay(tmp_path, raw)
    figures = json.loads(lines[-1])
    assert figures["cpu_per_304_feed_ms"] is None
    assert figures["extract_per_s"] is None
    assert "not measured" in line_of(lines, "304 poll cycle")
    assert any(line.startswith("failed step: extract") for line in lines)


def load_runner() -> Any:
    """``bench/run.py`` as a module (``bench`` is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_bench_that_judges_itself_is_read_from_its_marks_and_exit() -> None:
    runner = load_runner()
    sentences = "file  lang  F1  target  on\nntrex/ka.jsonl  ka  0.964  0.97  given  BELOW\n"
    assert runner.exit_only(sentences, Path("unused"), 0) == {"missed": 1}
    assert runner.exit_only("precision target >= 0.95: met\n", Path("unused"), 0) == {"missed": 0}
    assert runner.exit_only("duplicates: 0 (must be 0)\n", Path("unused"), 1) == {"missed": 1}
