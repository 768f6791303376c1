"""``newsbot check`` and configuration errors at the process boundary (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def newsbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_accepts_the_example_catalog(tmp_path: Path) -> None:
    result = newsbot(
        "check",
        "--dry-run",
        cwd=tmp_path,
        env={"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml")},
    )
    assert result.returncode == 0, result.stderr
    assert "5 regions" in result.stdout
    assert "unmatched articles (outlet.unmatched = 'none'): posted to no region" in result.stdout


def test_check_shows_where_unmatched_articles_go(tmp_path: Path) -> None:
    example = (REPO / "catalog.example.toml").read_text(encoding="utf-8")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        example.replace('# unmatched = "none"', 'unmatched = "abkhazia"'), encoding="utf-8"
    )
    result = newsbot("check", "--dry-run", cwd=tmp_path, env={"NEWSBOT_CATALOG": str(catalog)})
    assert result.returncode == 0, result.stderr
    assert "unmatched articles (outlet.unmatched = 'abkhazia'): posted to abkhazia" in result.stdout
    catalog.write_text(
        example.replace('# unmatched = "none"', 'unmatched = "atlantis"'), encoding="utf-8"
    )
    result = newsbot("check", "--dry-run", cwd=tmp_path, env={"NEWSBOT_CATALOG": str(catalog)})
    assert result.returncode == 2
    assert "outlet.unmatched: unknown region code 'atlantis'" in result.stderr


def test_check_names_every_problem_and_exits_2(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        """
[outlet]
name = "O"
site = "https://o.example"
default_language = "en"
languages = ["en"]
colour = "blue"

[[regions]]
code = "georgia"
name = "Georgia"

[[feeds]]
url = "notaurl"
language = "de"
regions = ["atlantis"]

[[channels]]
chat = "@some_channel"
language = "en"
regions = ["mars"]
""",
        encoding="utf-8",
    )
    result = newsbot("check", cwd=tmp_path, env={"NEWSBOT_WEB_PORT": "eighty"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    joined = "\n".join(lines)
    for expected in (
        "NEWSBOT_WEB_PORT",
        "outlet.colour: unknown key",
        "feeds[0].url: malformed URL",
        "channels[0].regions: unknown region code 'mars' (channel @some_channel, line 21)",
    ):
        assert expected in joined, joined
    assert all(line.startswith("newsbot: configuration error: ") for line in lines)


def test_missing_token_is_a_configuration_error_for_run(tmp_path: Path) -> None:
    result = newsbot(
        "run", cwd=tmp_path, env={"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml")}
    )
    assert result.returncode == 2
    assert "NEWSBOT_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_cross_section_errors_are_reported(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        """
[outlet]
name = "O"
site = "https://o.example"
languages = ["en"]

[[regions]]
code = "georgia"
name = "Georgia"

[[feeds]]
url = "https://o.example/feed"
language = "de"
regions = ["atlantis"]
""",
        encoding="utf-8",
    )
    result = newsbot("check", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2
    assert "feeds[0].regions: unknown region code 'atlantis'" in result.stderr
    assert "feeds[0].language: 'de' is not in outlet.languages" in result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = newsbot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "newsbot.db").exists()
    # Migrations are named; Alembic's set-up chatter is not printed at INFO.
    assert "Running upgrade  -> 0001" in result.stderr
    again = newsbot("db", "upgrade", cwd=tmp_path)
    for chatter in ("setup plugin", "Context impl", "Will assume"):
        assert chatter not in result.stderr + again.stderr


def test_check_needs_no_token_but_checks_one_that_is_set(tmp_path: Path) -> None:
    example = {"NEWSBOT_CATALOG": str(REPO / "catalog.example.toml")}
    without = newsbot("check", cwd=tmp_path, env=example)
    assert without.returncode == 0, without.stderr
    assert "5 regions" in without.stdout
    placeholder = newsbot("check", cwd=tmp_path, env={**example, "NEWSBOT_BOT_TOKEN": "changeme"})
    assert placeholder.returncode == 2
    assert "NEWSBOT_BOT_TOKEN: does not look like a token" in placeholder.stderr


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    from importlib import metadata

    result = newsbot("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"newsbot {metadata.version('newsbot')}"
