"""Failover on a cluster while items flow: a broker or an Elasticsearch node killed with SIGKILL, every
broker restarted in turn. The workers are never restarted; every item still ends as exactly one document
or one dead letter, never lost, doubled or stale. Each test prints its figures, the longest stall included."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline import search
from pipeline.config import Settings
from pipeline.stack import cluster, kafka_cluster
from tests.cluster import members
from tests.cluster.flow import Flow, flowing, report
from tests.faults.invariants import Figures, assert_invariant, check
from tests.faults.items import Expected

pytestmark = pytest.mark.services


def _checked(flow: Flow) -> tuple[Figures, Expected]:
    """The index's figures against the items the flow produced."""
    assert flow.expected is not None
    return check(flow.settings, search.client(flow.settings), flow.expected), flow.expected


def test_kill_9_the_leader_of_the_busiest_partitions(
    cluster_stack: Settings, cluster_settings: Settings, tmp_path: Path
) -> None:
    settings = cluster_settings
    with flowing(settings, tmp_path / "logs", seed=100, normalizers=2) as flow:
        time.sleep(4)
        broker, share = members.busiest_leader(cluster_stack, settings)
        controller = kafka_cluster.describe(settings, []).controller == broker.node_id
        members.kill9(broker.process())
        killed_at = time.monotonic()
        time.sleep(15)  # items keep flowing with one broker of three gone
        dead_for = time.monotonic() - killed_at
        back_in = members.restart_broker(cluster_stack, broker)
        time.sleep(3)
    (figures, expected), meter = _checked(flow), flow.meter
    print(
        "\n"
        + report(
            "kill -9 broker",
            figures,
            meter.longest_stall(),
            f"broker {broker.node_id} (led {share:.0%} of the messages{', active controller' if controller else ''}) "
            f"killed, first document after the kill {meter.first_after(killed_at) or 0:.1f}s later, stall around the "
            f"kill {meter.longest_stall(killed_at - 2, killed_at + dead_for):.1f}s, down {dead_for:.0f}s, back in "
            f"sync {back_in:.0f}s after restart; feeder batches produced again {flow.feeder.refused}",
        )
    )
    assert flow.alive == {"normalize": 2, "index": 1}, "a worker died"
    assert flow.codes == {"normalize": [0, 0], "index": [0]}
    assert_invariant(figures, expected)


def test_kill_9_an_elasticsearch_data_node(cluster_stack: Settings, cluster_settings: Settings, tmp_path: Path) -> None:
    settings = cluster_settings
    with flowing(settings, tmp_path / "logs", seed=200) as flow:
        time.sleep(4)
        node, primaries, master = members.busiest_es_node(cluster_stack, settings)
        members.kill9(node.process())
        killed_at = time.monotonic()
        time.sleep(15)
        dead_for = time.monotonic() - killed_at
        back_in = members.restart_es_node(cluster_stack, node)
        time.sleep(3)
    (figures, expected), meter = _checked(flow), flow.meter
    retries = flow.workers.log_text().count("transient failure")
    print(
        "\n"
        + report(
            "kill -9 elasticsearch",
            figures,
            meter.longest_stall(),
            f"{node.node_name} (held {primaries} of {settings.index_shards} primaries"
            f"{', elected master' if master else ''}) killed, first document after the kill "
            f"{meter.first_after(killed_at) or 0:.1f}s later, stall around the kill "
            f"{meter.longest_stall(killed_at - 2, killed_at + dead_for):.1f}s, down {dead_for:.0f}s, green again "
            f"{back_in:.0f}s after restart; indexer batch retries {retries}",
        )
    )
    assert flow.alive == {"normalize": 1, "index": 1}, "a worker died"
    assert flow.codes == {"normalize": [0], "index": [0]}
    assert_invariant(figures, expected)


def test_rolling_restart_of_every_broker(cluster_stack: Settings, cluster_settings: Settings, tmp_path: Path) -> None:
    settings = cluster_settings
    took: list[float] = []
    with flowing(settings, tmp_path / "logs", seed=300) as flow:
        time.sleep(2)
        for broker in cluster.brokers(cluster_stack):
            started = time.monotonic()
            assert broker.process().stop(), f"{broker.name} was not running"  # SIGTERM: controlled shutdown
            members.restart_broker(cluster_stack, broker)
            took.append(time.monotonic() - started)
        time.sleep(3)
    (figures, expected), meter = _checked(flow), flow.meter
    print(
        "\n"
        + report(
            "rolling restart",
            figures,
            meter.longest_stall(),
            f"{len(took)} brokers restarted one after another, each back in sync after "
            f"{', '.join(f'{t:.0f}s' for t in took)}; feeder batches produced again {flow.feeder.refused}",
        )
    )
    assert flow.alive == {"normalize": 1, "index": 1}, "a worker died"
    assert flow.codes == {"normalize": [0], "index": [0]}
    assert_invariant(figures, expected)
