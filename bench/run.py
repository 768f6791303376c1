"""Every benchmark in one command: one table (figure, target, measured, verdict, load) and,
as the last line, the same figures as one JSON object (issue 16).

Run from the repository root::

    .venv/bin/python bench/run.py            # the full form (about an hour on 2 cores)
    .venv/bin/python bench/run.py --quick    # smaller runs, under 10 minutes

Each benchmark runs as its own process (``bench/<name>.py``); its whole output goes to
``--logs`` (a temporary directory by default, named at the end of the table) and only its
figures come back here, read from the JSON it prints or writes. The machine's load
average is taken at the start and end of each step and printed beside its figures, since
on a shared machine the same code measures differently from one run to the next.

``--save FILE`` keeps the raw figures of every step; ``--replay FILE`` prints the table
and the JSON from such a file without running anything (how the tests check the
assembly, and how a past run is printed again).

A figure that was not measured (a step failed or was left out) is ``null`` in the JSON
and "not measured" in the table: a target is never reported met without a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

#: The JSON's keys, in order (issue 16, item 6).
KEYS = (
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
)

Raw = dict[str, Any]  # step name -> what the step reported (or {"error": ...})


@dataclass(frozen=True)
class Settings:
    """What the steps are asked to do: sizes for the full or the quick form, and the
    Bot API emulator's answer times."""

    quick: bool
    latency_ms: float = 50.0
    slow_latency_ms: float = 100.0
    jitter_ms: float = 30.0
    arrival_ms: float = 5.0

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


# ---------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class Step:
    """One benchmark process: its arguments, and how its figures are read back."""

    name: str
    args: Callable[[Settings, Path], list[str]]
    read: Callable[[str, Path, int], Any]  # (stdout, JSON file, exit status) -> figures
    full_only: bool = False


def last_json(stdout: str, _: Path, status: int) -> Any:
    """The JSON object or list a bench prints as its last line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def json_file(_: str, path: Path, status: int) -> Any:
    return json.loads(path.read_text())


def exit_only(stdout: str, _: Path, status: int) -> Any:
    """Benches that judge themselves: their verdict lines and exit status, for the table."""
    missed = sum(word in line for line in stdout.splitlines() for word in ("MISSED", "BELOW"))
    return {"missed": missed + (status != 0)}


def fanout_args(rate: float, latency: float, runs: int, subscribers: int, seconds: float):  # type: ignore[no-untyped-def]
    def build(s: Settings, out: Path) -> list[str]:
        return [
            "fanout.py",
            "--db=postgres",
            f"--rate={rate:g}",
            f"--subscribers={subscribers}",
            f"--seconds={seconds:g}",
            f"--latency-ms={latency if latency >= 0 else s.latency_ms:g}",
            f"--latency-jitter-ms={s.jitter_ms:g}",
            f"--arrival-jitter-ms={s.arrival_ms:g}",
            f"--runs={runs}",
            *(["--stock"] if rate <= 30 else []),  # the ratio is wanted at 30/s
            f"--json={out}",
        ]

    return build


def steps(s: Settings) -> list[Step]:
    q = s.quick
    return [
        Step(
            "channels_first",
            lambda s, _: [
                "channels_first.py",
                "--db=postgres",
                f"--subscribers={s.pick(1_000_000, 100_000)}",
                *(["--quick"] if s.quick else []),
            ],
            last_json,
        ),
        Step(
            "enqueue",
            lambda s, _: ["enqueue.py", f"--subscribers={s.pick(1_000_000, 100_000)}"],
            last_json,
        ),
        Step(
            "fanout_30",
            fanout_args(30, s.latency_ms, 1 if q else 3, 20_000, 10 if q else 15),
            json_file,
        ),
        Step(
            "fanout_30_slow",
            fanout_args(30, s.slow_latency_ms, 1 if q else 3, 20_000, 10 if q else 15),
            json_file,
        ),
        Step(
            "fanout_1000",
            fanout_args(1000, s.latency_ms, 2 if q else 5, 30_000, 6 if q else 8),
            json_file,
        ),
        Step(
            "polls",
            lambda s, _: [
                "polls.py",
                "--db=postgres",
                "--feeds=5000",
                f"--seconds={s.pick(180, 60)}",
            ],
            last_json,
        ),
        Step(
            "extract",
            lambda s, _: ["extract.py", f"--runs={s.pick(3, 1)}", f"--pages={s.pick(400, 200)}"],
            last_json,
        ),
        Step(
            "rss_10k",
            lambda s, _: ["rss.py", "--subscribers=10000", f"--seconds={s.pick(60, 40)}"],
            last_json,
        ),
        Step(
            "rss_1m",
            lambda s, _: ["rss.py", "--subscribers=1000000", f"--seconds={s.pick(60, 40)}"],
            last_json,
        ),
        Step("sentences", lambda s, _: ["sentences.py"], exit_only),
        Step("regions", lambda s, _: ["regions.py"], exit_only),
        Step(
            "ingest",
            lambda s, _: ["ingest.py", "--feeds=100", "--items=10", "--stage-sample=500"],
            exit_only,
            full_only=True,
        ),
        Step(
            "soak",
            lambda s, _: ["soak.py", "--seconds=120", "--kill-every=40", "--seed=11"],
            exit_only,
            full_only=True,
        ),
    ]


def run_step(step: Step, settings: Settings, logs: Path) -> Raw:
    """Run one bench; its output goes to ``logs/<name>.log``; returns its figures."""
    out = logs / f"{step.name}.json"
    argv = step.args(settings, out)
    load = os.getloadavg()[0]
    started = time.monotonic()
    print(f"[run] {step.name}: bench/{' '.join(argv)}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(BENCH / argv[0]), *argv[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    (logs / f"{step.name}.log").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr)
    meta = {
        "command": f"bench/{' '.join(argv)}",
        "seconds": round(time.monotonic() - started, 1),
        "load": [round(load, 1), round(os.getloadavg()[0], 1)],
        "exit": done.returncode,
    }
    try:
        figures = step.read(done.stdout, out, done.returncode)
    except (ValueError, IndexError, OSError) as exc:
        return {**meta, "error": f"no figures ({type(exc).__name__}: {exc})"}
    return {**meta, "figures": figures}


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One line of the table; ``key`` names its JSON key, when it has one."""

    label: str
    target: str
    measured: float | None
    unit: str
    ok: bool | None  # None: no target, or not measured
    load: str
    key: str | None = None

    def verdict(self) -> str:
        if self.measured is None:
            return "not measured"
        if self.ok is None:
            return "-"
        return "ok" if self.ok else "MISSED"


def figures(raw: Raw, step: str) -> Any:
    entry = raw.get(step) or {}
    return entry.get("figures")


def load_of(raw: Raw, step: str) -> str:
    entry = raw.get(step) or {}
    load = entry.get("load")
    return f"{load[0]:.1f}-{load[1]:.1f}" if load else ""


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def row(
    raw: Raw,
    step: str,
    label: str,
    target: str,
    value: Callable[[Any], float | None],
    unit: str,
    check: Callable[[float], bool] | None,
    key: str | None = None,
) -> Row:
    found = figures(raw, step)
    measured: float | None = None
    if found is not None:
        try:
            measured = value(found)
        except (KeyError, IndexError, TypeError, ValueError, statistics.StatisticsError):
            measured = None
    ok = None if measured is None or check is None else check(measured)
    return Row(label, target, measured, unit, ok, load_of(raw, step), key)


def runs_of(found: Any) -> list[dict[str, Any]]:
    return list(found) if isinstance(found, list) else [found]


def pct_min(found: Any) -> float:
    return min(100 * r["window_rate"] / r["rate"] for r in runs_of(found))


def median_of(field: str) -> Callable[[Any], float]:
    return lambda found: statistics.median(float(r[field]) for r in runs_of(found))


def rows(raw: Raw, settings: Settings) -> list[Row]:
    """Every figure of the issue, with its target, from the steps' raw figures."""
    lat, slow = settings.latency_ms, settings.slow_latency_ms
    jit = settings.jitter_ms
    subs = "100 000" if settings.quick else "1M"
    rss_10k = row(raw, "rss_10k", "", "", lambda f: f["peak_rss_mb"], "MB", None)
    rss_limit = None if rss_10k.measured is None else 1.1 * rss_10k.measured
    return [
        row(
            raw,
            "channels_first",
            f"poll -> channel post, {subs} private, PostgreSQL",
            "<= 2 s",
            lambda f: f[0]["channel_post_s"],
            "s",
            at_most(2.0),
            "poll_to_channel_1m_pg_s",
        ),
        row(
            raw,
            "channels_first",
            f"  poll -> first private chunk ({subs})",
            "(no target)",
            lambda f: f[0]["first_private_s"],
            "s",
            None,
        ),
        row(
            raw,
            "enqueue",
            f"enqueue every private row, PostgreSQL, per 1M ({subs} written)",
            "<= 10 s",
            lambda f: f["enqueue_1m_pg_s"],
            "s",
            at_most(10.0),
            "enqueue_1m_pg_s",
        ),
        row(
            raw,
            "enqueue",
            f"enqueue every private row, SQLite, per 1M ({subs} written)",
            "<= 5 s",
            lambda f: f["enqueue_1m_sqlite_s"],
            "s",
            at_most(5.0),
        ),
        row(
            raw,
            "channels_first",
            f"  every private row written at once ({subs})",
            "(no target)",
            lambda f: f[0]["fanout_done_s"] - f[0]["commit_s"],
            "s",
            None,
        ),
        row(
            raw,
            "fanout_30",
            f"30/s, answers {lat:g}±{jit:g} ms, PostgreSQL, worst run",
            ">= 97 %",
            pct_min,
            "%",
            at_least(97.0),
            "rate_30_latency50_pct",
        ),
        row(
            raw,
            "fanout_30_slow",
            f"30/s, answers {slow:g}±{jit:g} ms, PostgreSQL, worst run",
            ">= 95 %",
            pct_min,
            "%",
            at_least(95.0),
            "rate_30_latency100_pct",
        ),
        row(
            raw,
            "fanout_1000",
            f"paid 1000/s, answers {lat:g}±{jit:g} ms, PostgreSQL, worst run",
            ">= 90 %",
            pct_min,
            "%",
            at_least(90.0),
            "rate_1000_pg_min_pct",
        ),
        row(
            raw,
            "fanout_30",
            "CPU per message at 30/s incl. PostgreSQL server (median)",
            "<= 0.3 ms",
            median_of("total_cpu_ms_per_msg"),
            "ms",
            at_most(0.3),
            "cpu_per_msg_30_ms",
        ),
        row(
            raw,
            "fanout_30",
            "  of which the PostgreSQL server",
            "(no target)",
            median_of("pg_cpu_ms_per_msg"),
            "ms",
            None,
        ),
        row(
            raw,
            "fanout_1000",
            "CPU per message at 1000/s incl. PostgreSQL server (median)",
            "<= 0.3 ms",
            median_of("total_cpu_ms_per_msg"),
            "ms",
            at_most(0.3),
            "cpu_per_msg_1000_ms",
        ),
        row(
            raw,
            "fanout_30",
            "  stock PTB transport, same post at 30/s (median)",
            "(no target)",
            median_of("stock_cpu_ms_per_msg"),
            "ms",
            None,
        ),
        row(
            raw,
            "fanout_30",
            "stock PTB CPU / ours at 30/s (median)",
            "> 1",
            median_of("stock_ratio"),
            "x",
            lambda v: v > 1.0,
            "stock_ptb_ratio_30",
        ),
        row(
            raw,
            "polls",
            "304 poll cycle, 5 000 feeds, PostgreSQL, CPU per feed incl. server",
            "<= 1 ms",
            lambda f: f["cpu_per_304_feed_ms"],
            "ms",
            at_most(1.0),
            "cpu_per_304_feed_ms",
        ),
        row(
            raw,
            "polls",
            "5 000 feeds on their schedules: most overdue feed",
            "<= 5 s",
            lambda f: f["max_lag_s"],
            "s",
            at_most(5.0),
        ),
        row(
            raw,
            "extract",
            "extract + summarize, 61-84 KB pages, pool (median)",
            ">= 50 /s",
            lambda f: f["extract_per_s"],
            "/s",
            at_least(50.0),
            "extract_per_s",
        ),
        row(
            raw,
            "extract",
            "event-loop lag, burst of 200 extractions (median worst)",
            "< 50 ms",
            lambda f: f["loop_lag_ms"],
            "ms",
            lambda v: v < 50.0,
            "loop_lag_ms",
        ),
        Row(
            "whole bot peak RSS, 10 000 subscribers, fan-out running",
            "(reference)",
            rss_10k.measured,
            "MB",
            None,
            load_of(raw, "rss_10k"),
            "rss_10k_mb",
        ),
        row(
            raw,
            "rss_1m",
            "whole bot peak RSS, 1 000 000 subscribers, fan-out running",
            "<= 1.1 x 10k" + ("" if rss_limit is None else f" ({rss_limit:.0f} MB)"),
            lambda f: f["peak_rss_mb"],
            "MB",
            None if rss_limit is None else at_most(rss_limit),
            "rss_1m_mb",
        ),
        *[
            row(
                raw,
                name,
                f"{name}.py: its own targets",
                "all met",
                lambda f: f["missed"],
                " missed",
                lambda v: v == 0,
            )
            for name in ("sentences", "regions", "ingest", "soak")
            if name in raw
        ],
    ]


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 3 if unit == "ms" else 2 if unit in ("s", "x") else 1
    text = f"{value:.{digits}f}" if unit != " missed" else f"{value:.0f}"
    return f"{text} {unit.strip()}"


def table(table_rows: Sequence[Row]) -> str:
    head = ("figure", "target", "measured", "verdict", "load")
    cells = [head] + [
        (r.label, r.target, show(r.measured, r.unit), r.verdict(), r.load) for r in table_rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(table_rows: Sequence[Row]) -> dict[str, float | None]:
    """The JSON object: every key, ``None`` when not measured."""
    by_key = {
        r.key: None if r.measured is None else round(r.measured, 3) for r in table_rows if r.key
    }
    return {key: by_key.get(key) for key in KEYS}


def report(raw: Raw, settings: Settings, logs: str) -> str:
    table_rows = rows(raw, settings)
    failed = [f"{name}: {entry['error']}" for name, entry in raw.items() if "error" in entry]
    lines = [
        f"bench/run.py{' --quick' if settings.quick else ''}: "
        f"{os.cpu_count()} cores, load average at each step's start-end in the last column",
        table(table_rows),
        *[f"failed step: {line}" for line in failed],
        f"met {sum(r.ok is True for r in table_rows)}, "
        f"missed {sum(r.ok is False for r in table_rows)}, "
        f"not measured {sum(r.measured is None for r in table_rows)}; logs: {logs}",
        json.dumps(summary(table_rows)),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under 10 minutes")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="Bot API answer time")
    parser.add_argument("--slow-latency-ms", type=float, default=100.0, help="the slower one")
    parser.add_argument("--latency-jitter-ms", type=float, default=30.0)
    parser.add_argument("--arrival-jitter-ms", type=float, default=5.0)
    parser.add_argument("--only", default="", help="comma-separated step names to run")
    parser.add_argument("--logs", help="directory for each step's output")
    parser.add_argument("--save", help="write the raw figures of every step here")
    parser.add_argument("--replay", help="print the table and JSON from a --save file")
    args = parser.parse_args(argv)
    settings = Settings(
        args.quick,
        args.latency_ms,
        args.slow_latency_ms,
        args.latency_jitter_ms,
        args.arrival_jitter_ms,
    )
    if args.replay:
        saved = json.loads(Path(args.replay).read_text())
        print(report(saved["raw"], Settings(**saved["settings"]), saved.get("logs", "")))
        return 0
    logs = Path(args.logs or tempfile.mkdtemp(prefix="newsbot-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    wanted = {name for name in args.only.split(",") if name}
    raw: Raw = {}
    for step in steps(settings):
        if (wanted and step.name not in wanted) or (step.full_only and settings.quick):
            continue
        raw[step.name] = run_step(step, settings, logs)
    if args.save:
        saved = {"settings": settings.__dict__, "raw": raw, "logs": str(logs)}
        Path(args.save).write_text(json.dumps(saved, indent=1))
    print(report(raw, settings, str(logs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
