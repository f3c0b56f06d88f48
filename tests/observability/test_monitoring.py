"""The dashboard and the alert policies read only metrics that exist: log-based metrics
terraform declares, the gateway's Prometheus metrics, or Google's own; and the alerts
cover the seed design's list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from devstack import stack
from gateway.metrics import Metrics
from tests.infra import tfmodel

DASHBOARD = tfmodel.ROOT / "dashboards" / "quiz-overview.json"
MONITORING = tfmodel.TERRAFORM / "modules" / "monitoring"
GOOGLE_METRICS = ("run.googleapis.com/", "pubsub.googleapis.com/")
LOG_METRIC = "logging.googleapis.com/user/"


def _strings(node: Any, key: str) -> list[str]:
    """Every string value under `key`, anywhere in a JSON document."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == key and isinstance(v, str)]
        return found + [s for v in node.values() for s in _strings(v, key)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    return []


def _declared_log_metrics() -> set[str]:
    module = tfmodel.load(MONITORING)
    return {body["name"] for (kind, _), body in module.resources.items() if kind == "google_logging_metric"}


def _gateway_series() -> set[str]:
    """The series names the gateway's /metrics serves (a labelled family has no samples
    until a label value is used, so names come from each family's type)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {
        family.name + suffix for family in Metrics().registry.collect() for suffix in suffixes[family.type]
    }


def _promql_names(query: str) -> set[str]:
    return set(re.findall(r"\b(quiz_gateway_\w+)", query))


def test_dashboard_is_a_cloud_monitoring_mosaic_whose_tiles_fit_the_grid() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    layout = dashboard["mosaicLayout"]
    assert dashboard["displayName"] and layout["columns"] == 48
    for tile in layout["tiles"]:
        assert tile["xPos"] >= 0 and tile["xPos"] + tile["width"] <= 48, tile["widget"]["title"]
        assert tile["widget"]["xyChart"]["dataSets"], tile["widget"]["title"]


def test_dashboard_charts_only_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    types = {t for f in _strings(dashboard, "filter") for t in re.findall(r'metric\.type="([^"]+)"', f)}
    unknown = {t for t in types if not t.startswith(GOOGLE_METRICS) and not t.startswith(LOG_METRIC)}
    assert not unknown, unknown
    log_metrics = {t.removeprefix(LOG_METRIC) for t in types if t.startswith(LOG_METRIC)}
    assert log_metrics == _declared_log_metrics(), "every log-based metric is charted, and only those"
    promql = {n for q in _strings(dashboard, "prometheusQuery") for n in _promql_names(q)}
    assert promql - _gateway_series() == set(), "the gateway serves no such series"
    assert {"quiz_gateway_connections", "quiz_gateway_publish_latency_seconds_bucket"} <= promql


def test_alert_policies_cover_the_seed_designs_list() -> None:
    policies = {i.name: i for i in tfmodel.everywhere("google_monitoring_alert_policy")}
    assert {
        "error_ratio_critical",
        "error_ratio_warning",
        "answer_latency_p99",
        "gateway_publish_p99",
    } <= set(policies)
    assert policies["error_ratio_critical"].get("severity") == "CRITICAL"
    assert policies["error_ratio_critical"].get("conditions.condition_threshold.duration") == "300s"
    assert policies["error_ratio_warning"].get("conditions.condition_threshold.duration") == "600s"
    assert policies["answer_latency_p99"].get("conditions.condition_threshold.duration") == "300s"
    reducer = policies["answer_latency_p99"].get(
        "conditions.condition_threshold.aggregations.cross_series_reducer"
    )
    assert reducer == "REDUCE_PERCENTILE_99"
    thresholds = str(tfmodel.load(MONITORING).variables["thresholds"]["type"])
    for name, value in (
        ("error_ratio_critical", "0.01"),
        ("error_ratio_warning", "0.005"),
        ("answer_latency_p99_ms", "500"),
    ):
        assert re.search(rf"{name}\W+optional\(number, {re.escape(value)}\)", thresholds), name


def test_a_command_waiting_in_the_dead_letters_replay_alerts_at_once() -> None:
    policies = {i.name: i for i in tfmodel.everywhere("google_monitoring_alert_policy")}
    (replay,) = [i for i in tfmodel.everywhere("google_pubsub_subscription") if i.name == "dead_letter"]
    assert replay.get("name") == stack.DEAD_LETTER_SUBSCRIPTION
    policy = policies["dead_letters_waiting"]
    condition = "conditions.condition_threshold"
    metric_filter = policy.get(f"{condition}.filter")
    # The subscription's name reaches the module as the pubsub module's output.
    named = (stack.DEAD_LETTER_SUBSCRIPTION, "${google_pubsub_subscription.dead_letter.name}")
    assert any(f'resource.labels.subscription_id="{name}"' in metric_filter for name in named), metric_filter
    assert "subscription/num_undelivered_messages" in metric_filter
    assert (policy.get(f"{condition}.comparison"), policy.get(f"{condition}.threshold_value")) == (
        "COMPARISON_GT",
        0,
    )
    assert policy.get("severity") == "CRITICAL"


def test_alerts_on_prometheus_metrics_read_series_the_gateway_serves() -> None:
    text = (MONITORING / "main.tf").read_text()
    queries = re.findall(r'query\s*=\s*"(.+)"', text)
    assert queries
    names = {n for q in queries for n in _promql_names(q)}
    assert names and names - _gateway_series() == set(), names


def test_the_dashboard_terraform_deploys_is_this_file() -> None:
    call = tfmodel.load(tfmodel.TERRAFORM).calls["monitoring"]
    assert Path(call["dashboard_file"].replace("${path.root}", str(tfmodel.TERRAFORM))).resolve() == DASHBOARD
