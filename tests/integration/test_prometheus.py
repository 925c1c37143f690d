"""A real Prometheus server (Debian's package) scrapes real workers and the exporter, and evaluates the rules.

Polls (one good source, one malformed feed), a normalize and an index worker, and `newsflow exporter` run on
this test's topics and index; Prometheus, started on a free loopback port with a configuration written here,
scrapes them every second. Every metric that an alerting rule or a dashboard panel uses must be in the
workers' or the exporter's real /metrics, and every query must run on the real query engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from pipeline import kafka, search
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import NewsflowError
from pipeline.sources.catalog import load_sources
from tests.support.monitoring import RULES, dashboard, for_prometheus, metric_names, panel_exprs, rule_exprs, tool
from tests.support.ports import free_port

pytestmark = pytest.mark.services

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
REPO = Path(__file__).resolve().parents[2]
SEED_POSTS = REPO / "samples" / "posts" / "21shijijingjibaodao"


def _sources(tmp: Path) -> Path:
    broken = tmp / "broken.xml"
    broken.write_text("<rss><channel><title>cut off", encoding="utf-8")
    path = tmp / "sources.yaml"
    common = {"outlet": "O", "category": "c", "trusted": True}
    path.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"id": "prom-posts", "type": "jekyll", "path": str(SEED_POSTS), **common},
                    {"id": "prom-broken", "type": "feed", "url": broken.as_uri(), **common},  # fails whole
                ]
            }
        ),
        encoding="utf-8",
    )
    return path


def _scrape_names(port: int) -> set[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("query", query=expr)["result"]
        return result

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait(what: str, check: Callable[[], bool], logs: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:  # not listening yet
            pass
        time.sleep(1)
    tails = {log.name: log.read_text(errors="replace")[-1500:] for log in sorted(logs.glob("*.log"))}
    raise AssertionError(f"{what} never happened; logs: {json.dumps(tails, indent=1)}")


def test_prometheus_scrapes_the_workers_and_the_exporter_and_knows_every_metric_the_rules_and_panels_use(
    isolated: Settings, tmp_path: Path, processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    settings = isolated.model_copy(update={"sources": _sources(tmp_path)})
    kafka.ensure_topics(settings)
    search.ensure_index(search.client(settings), settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | settings.as_env()

    # Polls as the DAGs run them: one pushes the seed post, one fails on a malformed feed.
    emitter = KafkaEmitter(settings)
    try:
        good, broken = load_sources(settings.sources)
        assert poll_one(settings, good, emitter).new >= 1
        with pytest.raises(NewsflowError, match="malformed"):
            poll_one(settings, broken, emitter)
        emitter.send_bytes(settings.topic_raw, "broken-item", b"{not json", good.id)  # a dead letter
        emitter.flush()
    finally:
        emitter.close()

    ports = {"normalize": free_port(), "index": free_port(), "exporter": free_port(), "prometheus": free_port()}
    processes("normalize", [NEWSFLOW, "worker", "normalize", "--metrics-port", str(ports["normalize"])], env)
    processes("index", [NEWSFLOW, "worker", "index", "--metrics-port", str(ports["index"])], env)
    processes("exporter", [NEWSFLOW, "exporter", "--port", str(ports["exporter"])], env)

    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {
                        "job_name": "newsflow-workers",
                        "static_configs": [
                            {"targets": [f"127.0.0.1:{ports['normalize']}", f"127.0.0.1:{ports['index']}"]}
                        ],
                    },
                    {
                        "job_name": "newsflow-exporter",
                        "static_configs": [{"targets": [f"127.0.0.1:{ports['exporter']}"]}],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    processes(
        "prometheus",
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
        ],
    )
    prom = Prometheus(ports["prometheus"])

    def scraped_everything() -> bool:
        stored = prom.value('sum(newsflow_documents_indexed_total{result="stored"})')
        failing = prom.value('newsflow_source_consecutive_failures{source="prom-broken"}')
        lag = prom.value(f'newsflow_consumer_group_lag_messages{{group="{settings.group_index}"}}')
        up = prom.value('sum(up{job=~"newsflow.*"})')
        dead = prom.value("newsflow_deadletters_written_total")
        return stored is not None and stored >= 1 and failing == 1 and lag == 0 and up == 3 and dead == 1

    _wait(
        "Prometheus scraping stored documents, a failing source, a dead letter and the index group caught up",
        scraped_everything,
        tmp_path,
    )

    assert prom.value('newsflow_source_consecutive_failures{source="prom-posts"}') == 0
    assert prom.value('newsflow_source_last_success_timestamp_seconds{source="prom-posts"}') is not None
    assert prom.value('newsflow_source_last_success_timestamp_seconds{source="prom-broken"}') is None
    assert prom.value(f'newsflow_messages_failed_total{{worker="normalize", topic="{settings.topic_raw}"}}') == 1
    assert prom.value('count(newsflow_source_info{type="jekyll", schedule="@hourly"})') == 1

    # Every metric a rule or a panel uses is in what the real processes export, and known to Prometheus.
    exported = set().union(*(_scrape_names(ports[name]) for name in ("normalize", "index", "exporter")))
    known = set(prom.get("label/__name__/values"))
    exprs = {f"rule {name}": [expr] for name, expr in rule_exprs().items()}
    exprs |= {
        f"panel {title}": [for_prometheus(q) for q in queries] for title, queries in panel_exprs(dashboard()).items()
    }
    for where, queries in exprs.items():
        for expr in queries:
            for name in metric_names(expr):
                assert name in exported, f"{where} uses {name}, which no worker nor the exporter exports"
                assert name in known, f"{where} uses {name}, which Prometheus did not scrape"
            prom.query(expr)  # valid PromQL on the real engine (a bad query answers 400)

    # The rules are loaded and evaluate without errors.
    rules = [rule for group in prom.get("rules")["groups"] for rule in group["rules"]]
    assert {rule["name"] for rule in rules} == set(rule_exprs())
    assert {rule["health"] for rule in rules} == {"ok"}, [(r["name"], r.get("lastError")) for r in rules]
