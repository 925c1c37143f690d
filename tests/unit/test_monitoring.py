"""The alerting rules pass `promtool test rules` (each alert fires where it should, and only there), the example
Prometheus configuration is valid, and the Grafana dashboard covers what operators watch.

That every metric the rules and panels use is really exported is checked against real workers in
tests/integration/test_prometheus.py.
"""

from __future__ import annotations

import subprocess

from tests.support.monitoring import PROMETHEUS_DIR, dashboard, metric_names, panel_exprs, rule_exprs, tool


def _promtool(*args: str) -> str:
    out = subprocess.run([tool("promtool"), *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_alerting_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS: 7 rules found" in _promtool("check", "rules", "rules.yml")
    assert "SUCCESS" in _promtool("test", "rules", "rules.test.yml")


def test_every_alert_has_a_test() -> None:
    tests = (PROMETHEUS_DIR / "rules.test.yml").read_text(encoding="utf-8")
    for alert in rule_exprs():
        assert f"alertname: {alert}" in tests, alert


def test_the_example_prometheus_configuration_is_valid() -> None:
    _promtool("check", "config", "prometheus.yml")


def test_the_dashboard_shows_throughput_lag_freshness_dead_letters_and_source_health() -> None:
    board = dashboard()
    assert board["uid"] == "newsflow-pipeline"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    exprs = panel_exprs(board)
    for title, queries in exprs.items():
        assert queries and all(q.strip() for q in queries), title
    used = set().union(*(metric_names(q) for queries in exprs.values() for q in queries))
    assert {
        "newsflow_messages_consumed_total",  # throughput
        "newsflow_documents_indexed_total",
        "newsflow_consumer_group_lag_messages",  # lag
        "newsflow_freshness_fetched_seconds_bucket",  # freshness
        "newsflow_deadletters_written_total",  # dead letters
        "newsflow_messages_failed_total",
        "newsflow_source_consecutive_failures",  # per-source health
        "newsflow_source_last_success_timestamp_seconds",
    } <= used
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]  # chosen at import


def test_metric_names_are_read_from_queries_not_from_labels() -> None:
    expr = 'sum by (worker) (rate(newsflow_messages_failed_total{topic="newsflow_x"}[5m])) / newsflow_b'
    assert metric_names(expr) == {"newsflow_messages_failed_total", "newsflow_b"}
