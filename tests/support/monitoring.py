"""The monitoring files (alerting rules, Grafana dashboard) and the metric names their queries use."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "monitoring" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
DASHBOARD = REPO / "monitoring" / "grafana" / "newsflow-dashboard.json"

# Label matchers and strings hold no metric names; `up` is Prometheus' own series, not the workers'.
_MATCHERS = re.compile(r"\{[^}]*\}|\"[^\"]*\"|'[^']*'")
_METRIC = re.compile(r"\bnewsflow_[a-z0-9_]+\b")


def tool(name: str) -> str:
    """The path of a Prometheus binary; the test fails (never skips) without it."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    assert found, f"{name} is missing: `make prometheus` installs Debian's prometheus package"
    return found


def rule_exprs() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: str(rule["expr"]) for group in groups for rule in group["rules"]}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panel_exprs(board: dict[str, Any]) -> dict[str, list[str]]:
    """Panel title -> its queries, for every panel with queries (rows hold none)."""
    return {
        panel["title"]: [target["expr"] for target in panel.get("targets", [])]
        for panel in board["panels"]
        if panel["type"] != "row"
    }


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(_MATCHERS.sub("", expr)))


def for_prometheus(expr: str) -> str:
    """A dashboard query as Prometheus itself takes it (Grafana's variables replaced)."""
    return expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
