"""The dashboard and the alert rules under deploy/ use only metrics a running bot serves."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.app import run
from tests.e2e.support import declare_channels, make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feedserver import FeedServer, rss_feed
from tests.revenue.support import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Series made by Prometheus itself and by the blackbox exporter, not by the bot.
NOT_THE_BOTS = {"up", "probe_success"}
_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\)|$|\s*[<>=!]|\s*(?:and|or|unless)\b)")
_FUNCTIONS = {
    "sum", "max", "min", "avg", "count", "rate", "increase", "deriv", "topk", "absent",
    "histogram_quantile", "by", "without", "and", "or", "unless", "le",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Series names in a PromQL expression (labels, functions and keywords left out)."""
    without_labels = re.sub(r"\{[^}]*\}", "{}", expr)
    without_groupings = re.sub(r"\b(by|without)\s*\([^)]*\)", "", without_labels)
    names = set(_NAME.findall(without_groupings)) - _FUNCTIONS
    return {n for n in names if not n.isdigit()}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "newsbot.json").read_text(encoding="utf-8"))
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def served_names(exposition: str) -> set[str]:
    """Every series name a scrape of ``exposition`` can produce."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_count", "_sum", "_created"),
        }.get(family.type, ())
        names.update(family.name + suffix for suffix in suffixes)
    return names


def test_expressions_are_read_as_promql() -> None:
    found = metric_names(
        'sum by (state) (rate(newsbot_deliveries_total{state="sent"}[1m])) > 0 and up == 0'
    )
    assert found == {"newsbot_deliveries_total", "up"}


def test_the_alerts_cover_what_operators_need() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert names == {
        "NewsbotSenderStalled",
        "NewsbotBacklogGrowing",
        "NewsbotFeedDead",
        "NewsbotTelegram429",
        "NewsbotNoLeader",
        "NewsbotHealthzFailing",
    }
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"]


async def test_every_metric_the_dashboard_and_alerts_use_is_served(database_url: str) -> None:
    used = set().union(*(metric_names(e) for e in dashboard_exprs() + alert_exprs()))
    assert {"newsbot_send_rate_limit", "newsbot_leader"} <= used
    port = free_port()
    async with FakeBotAPI() as api, FeedServer() as feeds:
        declare_channels(api)
        feeds.set_feed("/feed", rss_feed([{"title": "One", "link": "https://news.example/1"}]))
        # /metrics is served on the private metrics listener.
        settings = make_settings(api, database_url, web_port=free_port(), metrics_port=port)
        stop = asyncio.Event()
        catalog = make_catalog([feeds.url("/feed")])
        task = asyncio.create_task(run(settings, catalog, dry_run=False, stop=stop))
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(200):
                    try:
                        answer = await http.get(f"http://127.0.0.1:{port}/metrics")
                        exposition = await answer.text()
                        polled = "newsbot_feed_polls_total{" in exposition
                        if polled and 'newsbot_leader{role="sender"} 1.0' in exposition:
                            break  # the first poll is in, and the sender leads
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
    served = served_names(exposition)
    missing = sorted(n for n in used - NOT_THE_BOTS if n not in served)
    assert not missing, f"used by deploy/ but not served: {missing}"
    assert 'newsbot_leader{role="sender"} 1.0' in exposition
    assert f"newsbot_send_rate_limit {settings.effective_rate}" in exposition
