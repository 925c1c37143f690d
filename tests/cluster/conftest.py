"""A cluster of its own for failover tests: three Kafka brokers from port 29092 and three Elasticsearch
nodes from port 29200 (never the shared stack's 9092/9200 or the fault stack's 19092/19200), under its
own state dir. It is started once for all the tests here and stopped at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.stack import cluster, manager
from pipeline.stack.process import rss_mb
from tests.support import stacks

CLUSTER_SERVICES = ("kafka", "elasticsearch")


@pytest.fixture(scope="session")
def cluster_stack(base_settings: Settings) -> Iterator[Settings]:
    settings = stacks.own_stack(base_settings, "cluster-tests", 20000, cluster_brokers=3, cluster_es_nodes=3)
    stacks.reset(settings, CLUSTER_SERVICES)
    started = time.monotonic()
    manager.up(settings, report=lambda line: print(f"[cluster] {line}"), only=CLUSTER_SERVICES, clustered=True)
    print(f"[cluster] 3 brokers and 3 nodes up in {time.monotonic() - started:.0f}s")
    yield settings
    for proc in [b.process() for b in cluster.brokers(settings)] + [m.process() for m in cluster.es_members(settings)]:
        pid = proc.pid()
        print(f"[cluster] {proc.name}: RSS after the tests {rss_mb(pid) if pid else 0:.0f} MiB")
    manager.down(settings, report=lambda line: print(f"[cluster] {line}"), only=CLUSTER_SERVICES)
    members = [b.process() for b in cluster.brokers(settings)] + [m.process() for m in cluster.es_members(settings)]
    assert [p.name for p in members if p.pid() is not None] == [], "`down` left cluster members running"


@pytest.fixture
def cluster_settings(cluster_stack: Settings, tmp_path: Path) -> Settings:
    """Client settings for every member, with topics, groups and index of this test only."""
    return stacks.flow_run(cluster.client_settings(cluster_stack), "c", tmp_path)
