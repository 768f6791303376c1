"""The deployment recipes under deploy/ agree with the settings and with each other.

No container runtime or systemd runs here: the files are parsed, and every setting they
name, every path and every port is checked against bot/config.py and the other files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PUBLIC_PATHS = {"/telegram", "/r/", "/ingest"}
SETTING = re.compile(r"\bNEWSBOT_[A-Z0-9_]+\b")


def read(relative: str) -> str:
    return (DEPLOY / relative).read_text(encoding="utf-8")


def env_file(relative: str) -> dict[str, str]:
    """KEY=value lines (comments and blank lines skipped)."""
    values = {}
    for line in read(relative).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def unit(relative: str) -> dict[str, list[str]]:
    """A systemd unit as key -> values (keys may repeat, as systemd allows)."""
    found: dict[str, list[str]] = {}
    for line in read(relative).splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def sqlite_dir(url: str) -> PurePosixPath:
    assert url.startswith("sqlite+aiosqlite:////"), url
    return PurePosixPath(url.removeprefix("sqlite+aiosqlite:///")).parent


def test_every_setting_named_under_deploy_exists() -> None:
    known = {f"NEWSBOT_{name.upper()}" for name in Settings.model_fields}
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            named = set(SETTING.findall(path.read_text(encoding="utf-8")))
            assert named <= known, f"{path.relative_to(REPO)}: unknown {sorted(named - known)}"


def test_every_setting_is_in_env_example() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    missing = [f for f in Settings.model_fields if f"NEWSBOT_{f.upper()}" not in example]
    assert not missing, f".env.example does not list {missing}"


def test_the_image_is_multi_stage_slim_unprivileged_and_checks_its_health() -> None:
    text = read("Dockerfile")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(stages) >= 2 and all("slim" in image for image in stages)
    env = dict(re.findall(r"(NEWSBOT_[A-Z_]+)=(\S+)", text))
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    health = re.search(r"^HEALTHCHECK .*?CMD (.*)$", text, re.M | re.S)
    # The metrics listener's /healthz: every role has it (a worker has no web listener).
    assert health and f"127.0.0.1:{env['NEWSBOT_METRICS_PORT']}/healthz" in health.group(1)
    assert re.search(rf"^EXPOSE {env['NEWSBOT_WEB_PORT']}$", text, re.M)
    volumes = set(re.findall(r'"(/[^"]+)"', re.search(r"^VOLUME (.*)$", text, re.M).group(1)))
    assert str(sqlite_dir(env["NEWSBOT_DATABASE_URL"])) in volumes
    assert str(PurePosixPath(env["NEWSBOT_CATALOG"]).parent) in volumes
    assert env["NEWSBOT_WEB_HOST"] == "0.0.0.0"  # reachable through the container's port


def test_compose_runs_postgres_one_web_and_one_worker() -> None:
    compose: dict[str, Any] = yaml.safe_load(read("compose.yaml"))
    services = compose["services"]
    assert set(services) == {"postgres", "web", "worker"}
    assert all(s["restart"] == "unless-stopped" for s in services.values())
    assert services["web"]["command"] == ["run", "--role", "web"]
    assert services["worker"]["command"] == ["run", "--role", "worker"]
    for role in ("web", "worker"):
        service = services[role]
        assert service["env_file"] == "../.env"
        assert service["environment"]["NEWSBOT_DATABASE_URL"].startswith(
            "postgresql+asyncpg://newsbot:"
        )
        assert "@postgres:5432/newsbot" in service["environment"]["NEWSBOT_DATABASE_URL"]
        catalog = service["environment"]["NEWSBOT_CATALOG"]
        assert any(v.split(":")[1] == catalog for v in service["volumes"])
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    data = services["postgres"]["volumes"][0].split(":")
    assert data[0] in compose["volumes"] and data[1] == "/var/lib/postgresql/data"
    web_port = services["web"]["environment"]["NEWSBOT_WEB_PORT"]
    assert services["web"]["ports"] == [f"127.0.0.1:{web_port}:{web_port}"]
    assert services["web"]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_the_systemd_unit_is_hardened_and_its_paths_agree() -> None:
    service = unit("systemd/newsbot.service")
    settings = env_file("systemd/newsbot.env.example")
    assert service["Restart"] == ["on-failure"]
    assert "2" in service["RestartPreventExitStatus"][0].split()
    assert service["DynamicUser"] == ["yes"] or service.get("User", ["root"])[0] != "root"
    assert service["ProtectSystem"] == ["strict"] and service["NoNewPrivileges"] == ["yes"]
    assert service["EnvironmentFile"] == ["/etc/newsbot/newsbot.env"]
    state = f"/var/lib/{service['StateDirectory'][0]}"
    assert service["WorkingDirectory"] == [state]
    assert str(sqlite_dir(settings["NEWSBOT_DATABASE_URL"])) in service["ReadWritePaths"][0].split()
    assert settings["NEWSBOT_CATALOG"].startswith("/etc/newsbot/")
    assert service["ExecStart"][0].split()[1:] == ["run"]
    assert service["ExecStart"][0].startswith("/opt/newsbot/bin/newsbot")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    copy = tmp_path / "newsbot.service"
    # systemd-analyze checks that ExecStart's program exists: point it at one that does.
    copy.write_text(
        read("systemd/newsbot.service").replace("/opt/newsbot/bin/newsbot", "/bin/true")
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    complaints = [
        line
        for line in result.stderr.splitlines()
        if "newsbot.service" in line and "Failed to" not in line.split(":", 1)[0]
    ]
    assert not [c for c in complaints if "Unknown" in c or "Invalid" in c or "bad" in c], (
        result.stderr
    )


def nginx_locations(text: str) -> dict[str, str]:
    """location path -> its body (one level of braces)."""
    return {
        path: body for path, body in re.findall(r"location\s+(?:=\s*)?(\S+)\s*\{([^}]*)\}", text)
    }


def test_nginx_exposes_only_the_public_paths_over_tls() -> None:
    text = read("nginx/newsbot.conf")
    settings = env_file("systemd/newsbot.env.example")
    upstream = re.search(r"upstream newsbot_web \{\s*server ([^;\s]+);", text)
    assert upstream and upstream.group(1) == (
        f"{settings['NEWSBOT_WEB_HOST']}:{settings['NEWSBOT_WEB_PORT']}"
    )
    locations = nginx_locations(text)
    proxied = {path for path, body in locations.items() if "proxy_pass" in body}
    assert proxied == PUBLIC_PATHS
    assert "return 404" in locations["/"]
    assert re.search(r"listen 443 ssl;", text) and "ssl_certificate " in text
    assert "/metrics" not in "".join(locations)


def test_caddy_exposes_only_the_public_paths() -> None:
    text = read("caddy/Caddyfile")
    settings = env_file("systemd/newsbot.env.example")
    matcher = re.search(r"@public path (.+)", text)
    assert matcher and {p.rstrip("*") for p in matcher.group(1).split()} == PUBLIC_PATHS
    upstream = re.search(r"reverse_proxy (\S+)", text)
    assert upstream and upstream.group(1) == (
        f"{settings['NEWSBOT_WEB_HOST']}:{settings['NEWSBOT_WEB_PORT']}"
    )
    assert "respond 404" in text


def test_the_proxies_expose_routes_the_web_server_has() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (REPO / "bot" / "web").glob("*.py"))
    routes = set(re.findall(r'add_(?:get|post|route)\((?:"[A-Z*]+", )?"([^"]+)"', source))
    for path in PUBLIC_PATHS:
        assert any(route == path or route.startswith(path) for route in routes), (path, routes)


def test_prometheus_scrapes_the_metrics_listener_and_probes_healthz() -> None:
    config = yaml.safe_load(read("prometheus/prometheus.yml"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert config["rule_files"] == ["alerts.yml"]
    host = env_file("systemd/newsbot.env.example")
    scrape = jobs["newsbot"]["static_configs"][0]["targets"][0]
    assert scrape == f"{host['NEWSBOT_METRICS_HOST']}:{host['NEWSBOT_METRICS_PORT']}"
    probe = jobs["newsbot-healthz"]["static_configs"][0]["targets"][0]
    assert probe == f"http://{host['NEWSBOT_WEB_HOST']}:{host['NEWSBOT_WEB_PORT']}/healthz"
    defaults = Settings(_env_file=None)
    assert (defaults.metrics_host, defaults.metrics_port) == (
        host["NEWSBOT_METRICS_HOST"],
        int(host["NEWSBOT_METRICS_PORT"]),
    )
