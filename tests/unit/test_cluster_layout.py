"""Where the members of a local cluster listen, what their configuration says, and the client settings that
reach all of them (no services needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.stack import cluster, es_cluster, kafka_cluster


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    for name in list(os.environ):
        if name.startswith("NEWSFLOW_"):
            monkeypatch.delenv(name)
    return Settings(state_dir=tmp_path / "state")


def test_members_listen_on_consecutive_ports_from_the_configured_addresses(settings: Settings) -> None:
    brokers = cluster.brokers(settings)
    assert [b.address for b in brokers] == ["127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"]
    assert [b.controller_address for b in brokers] == ["127.0.0.1:9192", "127.0.0.1:9193", "127.0.0.1:9194"]
    nodes = cluster.es_members(settings)
    assert [m.url for m in nodes] == ["http://127.0.0.1:9200", "http://127.0.0.1:9201", "http://127.0.0.1:9202"]
    assert [m.transport_address for m in nodes] == ["127.0.0.1:9300", "127.0.0.1:9301", "127.0.0.1:9302"]
    every_port = [b.port for b in brokers] + [b.controller_port for b in brokers]
    every_port += [m.http_port for m in nodes] + [m.transport_port for m in nodes]
    assert len(set(every_port)) == len(every_port)

    shifted = settings.model_copy(
        update={"kafka_bootstrap_servers": "127.0.0.1:29092", "es_url": "http://127.0.0.1:29200", "cluster_brokers": 5}
    )
    assert [b.port for b in cluster.brokers(shifted)] == [29092, 29093, 29094, 29095, 29096]
    assert [m.http_port for m in cluster.es_members(shifted)] == [29200, 29201, 29202]


def test_each_member_has_its_own_home_and_process_marker(settings: Settings) -> None:
    members = [b.process() for b in cluster.brokers(settings)] + [m.process() for m in cluster.es_members(settings)]
    assert len({p.name for p in members}) == len({p.marker for p in members}) == 6
    for proc in members:
        assert str(cluster.root(settings)) in proc.marker
    # elasticsearch-1's marker must not match elasticsearch-10's command line, nor the single node's home
    assert cluster.es_members(settings)[0].process().marker.endswith("elasticsearch-1\0")


def test_client_settings_reach_every_member_with_the_clusters_replication(settings: Settings) -> None:
    client = cluster.client_settings(settings)
    assert client.kafka_bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
    assert client.es_urls == ["http://127.0.0.1:9200", "http://127.0.0.1:9201", "http://127.0.0.1:9202"]
    assert (client.topic_replication, client.index_replicas, client.index_shards) == (3, 1, 3)
    assert kafka.min_insync_replicas(client) == 2
    env = cluster.client_env(settings)
    assert env["NEWSFLOW_TOPIC_REPLICATION"] == "3" and env["NEWSFLOW_INDEX_SHARDS"] == "3"
    assert Settings(**{k.removeprefix("NEWSFLOW_").lower(): v for k, v in env.items()}).es_urls == client.es_urls

    file = cluster.write_env_file(settings)
    assert file.read_text().splitlines()[0] == f"NEWSFLOW_KAFKA_BOOTSTRAP_SERVERS={client.kafka_bootstrap_servers}"


def test_what_the_user_chose_explicitly_is_kept(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_INDEX_SHARDS", "6")
    monkeypatch.setenv("NEWSFLOW_CLUSTER_BROKERS", "2")
    chosen = Settings(state_dir=settings.state_dir)
    client = cluster.client_settings(chosen)
    assert client.index_shards == 6
    assert client.topic_replication == 2  # never more than there are brokers
    assert kafka.min_insync_replicas(client) == 1  # one of two brokers may fail


@pytest.mark.parametrize(
    ("replication", "wanted", "expected"),
    [(1, 2, 1), (2, 2, 1), (3, 2, 2), (5, 2, 2), (5, 3, 3), (5, 9, 4), (3, 1, 1)],
)
def test_min_insync_replicas_leaves_room_for_one_failed_broker(
    settings: Settings, replication: int, wanted: int, expected: int
) -> None:
    chosen = settings.model_copy(update={"topic_replication": replication, "topic_min_insync_replicas": wanted})
    assert kafka.min_insync_replicas(chosen) == expected


def test_broker_properties_form_one_quorum_and_replicate(settings: Settings) -> None:
    brokers = cluster.brokers(settings)
    rendered = [
        dict(line.split("=", 1) for line in kafka_cluster.render_properties(settings, b).splitlines()) for b in brokers
    ]
    assert {p["controller.quorum.voters"] for p in rendered} == {"1@127.0.0.1:9192,2@127.0.0.1:9193,3@127.0.0.1:9194"}
    assert [p["node.id"] for p in rendered] == ["1", "2", "3"]
    assert [p["listeners"] for p in rendered][1] == "PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:9193"
    for props in rendered:
        assert "controller.quorum.bootstrap.servers" not in props  # never mixed with a static quorum
        assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == "3"
        assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"
        assert props["unclean.leader.election.enable"] == "false"
        assert props["log.dirs"].startswith(str(cluster.root(settings)))
    assert len({p["log.dirs"] for p in rendered}) == 3


def test_elasticsearch_nodes_discover_each_other_and_bootstrap_only_once(settings: Settings) -> None:
    first = cluster.es_members(settings)[0]
    options = es_cluster.command_options(settings, first)
    assert options[options.index("--seed-hosts") + 1] == "127.0.0.1:9300,127.0.0.1:9301,127.0.0.1:9302"
    assert options[options.index("--initial-master-nodes") + 1] == "newsflow-es-1,newsflow-es-2,newsflow-es-3"
    assert options[options.index("--node-name") + 1] == "newsflow-es-1"
    first.home.mkdir(parents=True)
    (first.home / "joined").touch()  # once the node was seen in a formed cluster
    assert "--initial-master-nodes" not in es_cluster.command_options(settings, first)


def test_the_search_client_knows_every_node_and_fails_over_on_connection_errors(settings: Settings) -> None:
    client = cluster.client_settings(settings)
    es = search.client(client)
    hosts = sorted(node.config.port for node in es.transport.node_pool.all())
    assert hosts == [9200, 9201, 9202]
    # a refused connection moves on to the next node; statuses and timeouts are left to our own backoff
    assert (es._max_retries, es._retry_on_timeout, es._retry_on_status) == (2, False, ())
    assert search.client(settings)._max_retries == 0
