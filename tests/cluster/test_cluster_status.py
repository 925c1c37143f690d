"""`newsflow stack status` on a running cluster, as an operator reads it, and `stack up` refusing to start
the single-node stack over it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ServiceError
from pipeline.stack import cluster, manager

pytestmark = pytest.mark.services


def _newsflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(settings.as_env())
    return subprocess.run(
        [str(Path(sys.executable).parent / "newsflow"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def test_status_shows_each_member_the_partition_leaders_and_unassigned_shards(cluster_stack: Settings) -> None:
    status = _newsflow(cluster_stack, "stack", "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    print("\n" + status.stdout)
    members = {line.split()[0]: line for line in lines if not line.startswith(" ")}
    for broker in cluster.brokers(cluster_stack):
        assert members[broker.name].split()[1:3] == ["up", broker.address]
        assert f"node {broker.node_id}, leads " in members[broker.name]
    assert sum("active controller" in members[b.name] for b in cluster.brokers(cluster_stack)) == 1
    for node in cluster.es_members(cluster_stack):
        assert members[node.name].split()[1:4] == ["up", node.url, "8.19.21"]
    assert sum("elected master" in members[m.name] for m in cluster.es_members(cluster_stack)) == 1
    leaders = next(line for line in lines if line.strip().startswith(f"{cluster_stack.topic_raw}: partition leaders"))
    assert len(leaders.split("leaders ")[1].split()) == cluster_stack.topic_partitions
    assert "kafka cluster: 3 of 3 brokers live" in status.stdout and "0 without a leader" in status.stdout
    assert "elasticsearch cluster: green, 3 of 3 nodes, 0 unassigned shards" in status.stdout


def test_the_single_node_stack_is_refused_while_the_cluster_runs(cluster_stack: Settings) -> None:
    with pytest.raises(ServiceError, match=r"cluster .* is running .*kafka-1.*stack down"):
        manager.up(cluster_stack, report=lambda line: None, only=("kafka",))
