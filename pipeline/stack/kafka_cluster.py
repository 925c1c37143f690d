"""Apache Kafka 4 as a local cluster: N KRaft brokers, each also a controller (a static quorum of N voters),
from the same Maven Central jars as the single broker.

Topics are replicated on up to three brokers with `min.insync.replicas` 2, so that an acks=all producer goes
on writing while one broker is down, and no acknowledged message lives on one disk only.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kafka.errors import KafkaError

from pipeline import kafka
from pipeline.config import Settings
from pipeline.errors import RetryableError, ServiceError
from pipeline.stack import cluster, kafka_broker, maven
from pipeline.stack.cluster import Broker
from pipeline.stack.process import ManagedProcess, wait_until


def _member_settings(settings: Settings, broker: Broker) -> Settings:
    return settings.model_copy(update={"kafka_bootstrap_servers": broker.address})


def render_properties(settings: Settings, broker: Broker) -> str:
    members = cluster.brokers(settings)
    replication = cluster.replication(settings)
    min_isr = str(max(1, min(settings.topic_min_insync_replicas, replication - 1)))
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(broker.node_id),
        "controller.quorum.voters": ",".join(f"{b.node_id}@{b.controller_address}" for b in members),
        "listeners": f"PLAINTEXT://{broker.address},CONTROLLER://{broker.controller_address}",
        "advertised.listeners": f"PLAINTEXT://{broker.address},CONTROLLER://{broker.controller_address}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(broker.home / "data"),
        "auto.create.topics.enable": "false",
        "num.partitions": str(settings.topic_partitions),
        "default.replication.factor": str(replication),
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": str(replication),
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "6",
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": min_isr,
        "unclean.leader.election.enable": "false",  # never elect a replica that may lack acknowledged writes
        # Leadership goes back to the preferred replicas within a minute of a broker's return (default 5).
        "leader.imbalance.check.interval.seconds": "30",
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "message.max.bytes": str(kafka.MAX_MESSAGE_BYTES),
        "replica.fetch.max.bytes": str(kafka.MAX_MESSAGE_BYTES),
        "num.io.threads": "2",
        "num.network.threads": "2",
        "num.replica.fetchers": "1",
        "background.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _cluster_id_file(settings: Settings) -> Path:
    return cluster.root(settings) / "kafka.cluster.id"


def _lib(settings: Settings, log_file: Path) -> Path:
    return maven.build("kafka", ["dependency:copy-dependencies"], settings.cache_dir, log_file)


def launch(settings: Settings, broker: Broker) -> None:
    """Start one broker's process (formatting its storage on its first start); do not wait for it."""
    proc = broker.process()
    if proc.pid() is not None:
        return
    proc.run_dir.mkdir(parents=True, exist_ok=True)
    lib = _lib(settings, proc.log_file)
    broker.home.mkdir(parents=True, exist_ok=True)
    broker.properties.write_text(render_properties(settings, broker))
    heap = settings.cluster_kafka_heap
    if not (broker.home / "data" / "meta.properties").exists():  # a restart skips the formatting JVM
        kafka_broker.format_storage(lib, heap, _cluster_id_file(settings), broker.properties, proc, standalone=False)
    proc.start(
        kafka_broker.java_command(lib, heap, "kafka.Kafka", str(broker.properties)),
        env=dict(os.environ),
        cwd=broker.home,
    )


def answers(settings: Settings, broker: Broker) -> bool:
    return broker.process().pid() is not None and kafka.ping(_member_settings(settings, broker))


def wait_ready(settings: Settings, broker: Broker, timeout_s: float = 180) -> None:
    """Until the broker answers and the controller counts it as an unfenced member."""

    def ready() -> bool:
        if not answers(settings, broker):
            return False
        try:
            return broker.node_id in unfenced(_member_settings(settings, broker))
        except RetryableError:
            return False

    wait_until(ready, timeout_s=timeout_s, proc=broker.process(), service=f"Kafka broker {broker.node_id}")


def start(settings: Settings) -> None:
    """Start every broker, then wait for all: a static quorum elects its controller only once a majority runs.

    The jars are resolved once; the brokers' first starts (a formatting JVM each) then run side by side."""
    members = cluster.brokers(settings)
    lib = _lib(settings, members[0].process().log_file)
    kafka_broker.ensure_cluster_id(lib, settings.cluster_kafka_heap, _cluster_id_file(settings))  # one for all
    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        list(pool.map(lambda broker: launch(settings, broker), members))
    for broker in members:
        wait_ready(settings, broker)


def processes(settings: Settings) -> list[ManagedProcess]:
    return [broker.process() for broker in cluster.brokers(settings)]


def unfenced(settings: Settings) -> set[int]:
    """Ids of the brokers the controller counts as live members."""
    try:
        with kafka.admin(settings, timeout_ms=5_000) as client:
            described = client.describe_cluster()
    except (KafkaError, OSError) as exc:
        raise RetryableError(f"cannot describe the Kafka cluster: {exc}") from exc
    return {int(b["broker_id"]) for b in described["brokers"] if not b.get("is_fenced")}


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int  # -1: none (offline)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True)
class ClusterState:
    brokers: tuple[int, ...]  # unfenced
    controller: int  # the active KRaft controller
    partitions: tuple[PartitionState, ...]

    def leaders(self, topic: str) -> list[int]:
        return [p.leader for p in sorted(self.partitions, key=lambda p: p.partition) if p.topic == topic]

    def led_by(self, broker: int) -> int:
        return sum(1 for p in self.partitions if p.leader == broker)


def describe(settings: Settings, topics: list[str] | None = None) -> ClusterState:
    """Live brokers, the controller and each partition's leader and in-sync replicas (all topics, internal
    ones included, unless `topics` names some)."""
    try:
        with kafka.admin(settings, timeout_ms=5_000) as client:
            described = client.describe_cluster()
            # In KRaft, the "controller" of a metadata answer is any broker; the active controller is the
            # leader of the metadata quorum.
            quorum = client.describe_metadata_quorum()
            names = topics if topics is not None else list(client.list_topics())
            found = client.describe_topics(names) if names else []
    except (KafkaError, OSError) as exc:
        raise RetryableError(f"cannot describe the Kafka cluster: {exc}") from exc
    controller = int(quorum["topics"][0]["partitions"][0]["leader_id"])
    partitions = tuple(
        PartitionState(
            topic=str(topic["name"]),
            partition=int(p["partition_index"]),
            leader=int(p["leader_id"]),
            replicas=tuple(int(r) for r in p["replica_nodes"]),
            isr=tuple(int(r) for r in p["isr_nodes"]),
        )
        for topic in found
        if topic.get("error_code", 0) == 0
        for p in topic["partitions"]
    )
    live = tuple(sorted(int(b["broker_id"]) for b in described["brokers"] if not b.get("is_fenced")))
    return ClusterState(brokers=live, controller=controller, partitions=partitions)


def wait_in_sync(settings: Settings, timeout_s: float = 120) -> None:
    """Until every broker is live and no partition is under-replicated (e.g. between two restarts)."""
    members = {b.node_id for b in cluster.brokers(settings)}
    client = cluster.client_settings(settings)

    def in_sync() -> bool:
        try:
            state = describe(client)
        except RetryableError:
            return False
        return set(state.brokers) == members and not any(p.under_replicated for p in state.partitions)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if in_sync():
            return
        time.sleep(0.5)
    raise ServiceError(f"Kafka partitions not all in sync within {timeout_s:.0f}s")
