"""Elasticsearch 8 as a local cluster: N nodes (each master-eligible and a data node) that find each other
over the Netty4 transport (`discovery.seed_hosts`), from the same launcher and jars as the single node."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, TransportError

from pipeline import search
from pipeline.config import Settings
from pipeline.errors import RetryableError, ServiceError
from pipeline.stack import cluster, es_node
from pipeline.stack.cluster import EsMember
from pipeline.stack.process import ManagedProcess, wait_until


def _member_settings(settings: Settings, member: EsMember) -> Settings:
    return settings.model_copy(update={"es_url": member.url})


def _joined_mark(member: EsMember) -> Path:
    return member.home / "joined"


def _bootstrapped(member: EsMember) -> bool:
    """True once the node was seen in a formed cluster (it then keeps that cluster's id in its data)."""
    return _joined_mark(member).exists()


def command_options(settings: Settings, member: EsMember) -> list[str]:
    members = cluster.es_members(settings)
    options = [
        "--node-name",
        member.node_name,
        "--quiet",
        "--seed-hosts",
        ",".join(m.transport_address for m in members),
    ]
    if not _bootstrapped(member):  # only the very first start of a new cluster names its first masters
        options += ["--initial-master-nodes", ",".join(m.node_name for m in members)]
    return options


def launch(settings: Settings, member: EsMember) -> None:
    """Start one node's process; do not wait for it."""
    proc = member.process()
    if proc.pid() is not None:
        return
    proc.run_dir.mkdir(parents=True, exist_ok=True)
    lib = es_node.build(settings, proc.log_file)
    (member.home / "tmp").mkdir(parents=True, exist_ok=True)
    argv = es_node.java_command(
        lib,
        settings.cluster_es_heap,
        member.home,
        member.host,
        member.http_port,
        member.transport_port,
        *command_options(settings, member),
    )
    proc.start(argv, env=dict(os.environ), cwd=member.home)


def answers(settings: Settings, member: EsMember) -> str | None:
    """The node's version once it answers over HTTP."""
    return search.ping(_member_settings(settings, member)) if member.process().pid() is not None else None


def wait_joined(settings: Settings, member: EsMember, timeout_s: float = 240) -> None:
    """Until the node answers and the elected master counts it in the cluster."""

    def joined() -> bool:
        if answers(settings, member) is None:
            return False
        try:
            return member.node_name in {n["name"] for n in nodes(_member_settings(settings, member))}
        except RetryableError:
            return False

    wait_until(joined, timeout_s=timeout_s, proc=member.process(), service=f"Elasticsearch node {member.number}")
    _joined_mark(member).touch()


def start(settings: Settings) -> None:
    """Start every node, then wait until all have joined and the cluster is green."""
    members = cluster.es_members(settings)
    for member in members:
        launch(settings, member)
    for member in members:
        wait_joined(settings, member)
    wait_green(settings)


def wait_green(settings: Settings, timeout_s: float = 180) -> None:
    """Until every node is in and no shard is unassigned or initializing."""
    es = search.client(cluster.client_settings(settings), timeout_s=10)
    wanted = str(settings.cluster_es_nodes)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            health = es.cluster.health(wait_for_status="green", wait_for_nodes=wanted, timeout="5s")
            if not health["timed_out"]:
                return
        except (ApiError, TransportError):
            time.sleep(1)
    raise ServiceError(f"the Elasticsearch cluster was not green with {wanted} nodes within {timeout_s:.0f}s")


def processes(settings: Settings) -> list[ManagedProcess]:
    return [member.process() for member in cluster.es_members(settings)]


def nodes(settings: Settings) -> list[dict[str, Any]]:
    """The cluster's nodes as one node sees them: name, master (`*`), heap use, roles."""
    try:
        found = search.client(settings, timeout_s=5).cat.nodes(format="json", h="name,master,heap.percent,node.role")
    except (ApiError, TransportError) as exc:
        raise RetryableError(f"cannot list the Elasticsearch nodes: {exc}") from exc
    return list(found.body)


@dataclass(frozen=True)
class ShardCopies:
    primaries: int = 0
    replicas: int = 0


@dataclass(frozen=True)
class ClusterHealth:
    status: str
    nodes: int
    master: str | None
    members: tuple[str, ...]  # node names
    unassigned: int
    shards: dict[str, ShardCopies]  # node name -> started copies it holds


def health(settings: Settings) -> ClusterHealth:
    es = search.client(settings, timeout_s=5)
    try:
        state = es.cluster.health()
        listed = nodes(settings)
        shards: list[dict[str, Any]] = es.cat.shards(format="json", h="prirep,state,node").body  # type: ignore[assignment]
    except (ApiError, TransportError) as exc:
        raise RetryableError(f"cannot read the Elasticsearch cluster's health: {exc}") from exc
    held: dict[str, ShardCopies] = {}
    for shard in shards:
        if shard.get("state") != "STARTED" or not shard.get("node"):
            continue
        copies = held.get(shard["node"], ShardCopies())
        primary = shard["prirep"] == "p"
        held[shard["node"]] = ShardCopies(copies.primaries + primary, copies.replicas + (not primary))
    return ClusterHealth(
        status=str(state["status"]),
        nodes=int(state["number_of_nodes"]),
        master=next((str(n["name"]) for n in listed if n.get("master") == "*"), None),
        members=tuple(sorted(str(n["name"]) for n in listed)),
        unassigned=int(state["unassigned_shards"]),
        shards=held,
    )
