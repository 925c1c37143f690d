"""Killing, restarting and choosing the members of the test cluster."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.stack import cluster, es_cluster, kafka_cluster
from pipeline.stack.cluster import Broker, EsMember
from pipeline.stack.process import ManagedProcess


def kill9(proc: ManagedProcess) -> None:
    """SIGKILL: no controlled shutdown, no flush, no goodbye to the cluster."""
    pid = proc.pid()
    assert pid is not None, f"{proc.name} is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while proc.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.pid() is None, f"{proc.name} survived SIGKILL"


def busiest_leader(stack: Settings, client: Settings) -> tuple[Broker, float]:
    """The broker leading the partitions that carried most of the test's messages so far, and its share."""
    topics = [client.topic_raw, client.topic_articles]
    state = kafka_cluster.describe(client, topics)
    carried: Counter[int] = Counter()
    for topic in topics:
        ends = kafka.end_offsets(client, topic)
        for partition in state.partitions:
            if partition.topic == topic:
                carried[partition.leader] += ends.get(partition.partition, 0)
    leader, messages = carried.most_common(1)[0]
    broker = next(b for b in cluster.brokers(stack) if b.node_id == leader)
    return broker, messages / max(1, sum(carried.values()))


def restart_broker(stack: Settings, broker: Broker) -> float:
    """Start a stopped broker again and wait until every partition is back in sync; seconds it took."""
    started = time.monotonic()
    kafka_cluster.launch(stack, broker)
    kafka_cluster.wait_ready(stack, broker)
    kafka_cluster.wait_in_sync(stack)
    return time.monotonic() - started


def busiest_es_node(stack: Settings, client: Settings) -> tuple[EsMember, int, bool]:
    """The node holding most primary shards of the test's index, how many, and whether it is the master."""
    es = search.client(client)
    answer = es.cat.shards(index=client.index_alias, format="json", h="prirep,state,node")
    shards: list[dict[str, str]] = answer.body  # type: ignore[assignment]  # a JSON list with format=json
    primaries = Counter(s["node"] for s in shards if s["prirep"] == "p" and s["state"] == "STARTED")
    name, count = primaries.most_common(1)[0]
    member = next(m for m in cluster.es_members(stack) if m.node_name == name)
    master = es_cluster.health(client).master == name
    return member, count, master


def restart_es_node(stack: Settings, member: EsMember) -> float:
    """Start a stopped node again and wait until the cluster is green; seconds it took."""
    started = time.monotonic()
    es_cluster.launch(stack, member)
    es_cluster.wait_joined(stack, member)
    es_cluster.wait_green(stack)
    return time.monotonic() - started
