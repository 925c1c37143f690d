"""docker-compose.yml parses and agrees with the settings' defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.config import Settings
from pipeline.stack import cluster

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


def _cluster_services() -> dict:  # type: ignore[type-arg]
    return {name: s for name, s in _compose()["services"].items() if "cluster" in s.get("profiles", [])}


def test_the_cluster_profile_mirrors_stack_up_cluster() -> None:
    defaults = Settings()
    services = _cluster_services()
    brokers = [services[f"kafka-{n}"] for n in (1, 2, 3)]
    nodes = [services[f"es-{n}"] for n in (1, 2, 3)]
    assert [_host_ports(b) for b in brokers] == [{b.port} for b in cluster.brokers(defaults)]
    assert [_host_ports(n) for n in nodes] == [{m.http_port} for m in cluster.es_members(defaults)]
    for name, service in _compose()["services"].items():  # the single stack stays as it was
        if name in ("kafka", "elasticsearch", "normalizer", "fetcher", "indexer"):
            assert "profiles" not in service

    voters = {b["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for b in brokers}
    assert voters == {"1@kafka-1:9193,2@kafka-2:9193,3@kafka-3:9193"}
    assert [b["environment"]["KAFKA_NODE_ID"] for b in brokers] == [1, 2, 3]
    assert len({b["environment"]["CLUSTER_ID"] for b in brokers}) == 1
    for n, broker in enumerate(brokers, start=1):
        env = broker["environment"]
        assert f"INTERNAL://kafka-{n}:29092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert f"HOST://127.0.0.1:{9091 + n}" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
    for n, node in enumerate(nodes, start=1):
        env = node["environment"]
        assert env["node.name"] == f"es-{n}" and env["discovery.seed_hosts"] == "es-1,es-2,es-3"
        assert env["cluster.initial_master_nodes"] == "es-1,es-2,es-3"
        assert "discovery.type" not in env

    local = cluster.client_env(defaults)
    for worker in ("normalizer-cluster", "fetcher-cluster", "indexer-cluster"):
        env = services[worker]["environment"]
        assert env["NEWSFLOW_KAFKA_BOOTSTRAP_SERVERS"] == "kafka-1:29092,kafka-2:29092,kafka-3:29092"
        assert env["NEWSFLOW_ES_URL"] == "http://es-1:9200,http://es-2:9200,http://es-3:9200"
        for name in ("NEWSFLOW_TOPIC_REPLICATION", "NEWSFLOW_INDEX_REPLICAS", "NEWSFLOW_INDEX_SHARDS"):
            assert env[name] == local[name]
        assert env["NEWSFLOW_TOPIC_RAW"] == defaults.topic_raw
