"""docker-compose.yml parses and agrees with the settings' defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.config import Settings

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def _host_ports(service: dict) -> set[int]:  # type: ignore[type-arg]
    return {int(str(p).split(":")[-2]) for p in service.get("ports", [])}


def test_ports_match_the_local_stack() -> None:
    compose, defaults = _compose(), Settings()
    services = compose["services"]
    assert defaults.kafka_host_port[1] in _host_ports(services["kafka"])
    assert defaults.es_host_port[1] in _host_ports(services["elasticsearch"])
    assert defaults.airflow_port in _host_ports(services["airflow-api-server"])
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_names_match_the_settings_defaults() -> None:
    compose, defaults = _compose(), Settings()
    env = compose["x-newsflow-env"]
    assert env["NEWSFLOW_TOPIC_RAW"] == defaults.topic_raw
    assert env["NEWSFLOW_TOPIC_ARTICLES"] == defaults.topic_articles
    assert env["NEWSFLOW_TOPIC_DEADLETTER"] == defaults.topic_deadletter
    assert int(env["NEWSFLOW_TOPIC_PARTITIONS"]) == defaults.topic_partitions
    assert env["NEWSFLOW_INDEX_ALIAS"] == defaults.index_alias
    for worker in ("normalizer", "indexer"):
        assert compose["services"][worker]["environment"] == env


def test_healthchecks_gate_the_dependents() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
    assert services["elasticsearch"]["image"].split(":")[1].startswith("8.19.")
    assert services["kibana"]["image"].split(":")[1] == services["elasticsearch"]["image"].split(":")[1]
