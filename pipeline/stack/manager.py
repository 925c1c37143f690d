"""`newsflow stack up | down | status`: the three services together, with one Kafka broker and one
Elasticsearch node, or (`--cluster`) with a cluster of each."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.errors import RetryableError, ServiceError
from pipeline.stack import airflow_server, cluster, es_cluster, es_node, kafka_broker, kafka_cluster, maven
from pipeline.stack.process import ManagedProcess, rss_mb, stop_together


@dataclass(frozen=True)
class Service:
    name: str
    address: Callable[[Settings], str]
    process: Callable[[Settings], ManagedProcess]
    start: Callable[[Settings], None]
    version: Callable[[Settings], str | None]
    extra: Callable[[Settings], str] = lambda _settings: ""


SERVICES: tuple[Service, ...] = (
    Service("kafka", kafka_broker.address, kafka_broker.process, kafka_broker.start, kafka_broker.version),
    Service("elasticsearch", es_node.address, es_node.process, es_node.start, es_node.version),
    Service(
        "airflow",
        airflow_server.base_url,
        airflow_server.process,
        airflow_server.start,
        airflow_server.version,
        airflow_server.login_hint,
    ),
)


def _selected(only: tuple[str, ...] | None) -> tuple[Service, ...]:
    return tuple(s for s in SERVICES if only is None or s.name in only)


def up(
    settings: Settings,
    report: Callable[[str], None] = print,
    only: tuple[str, ...] | None = None,
    *,
    clustered: bool = False,
) -> None:
    """Start what is not running yet and wait until each service answers; idempotent.

    `clustered`: `cluster_brokers` Kafka brokers and `cluster_es_nodes` Elasticsearch nodes instead of one of each.
    """
    maven.require_tools()
    _refuse_other_mode(settings, clustered)
    _mode_file(settings).parent.mkdir(parents=True, exist_ok=True)
    _mode_file(settings).write_text("cluster" if clustered else "single")
    if clustered:
        _cluster_up(settings, report, only)
        return
    for service in _selected(only):
        _bring_up(
            report,
            service.name,
            service.address(settings),
            up=service.process(settings).pid() is not None and bool(service.version(settings)),
            log=f"log: {service.process(settings).log_file}",
            start=functools.partial(service.start, settings),
        )
    # A stack is ready when the pipeline can use it: its topics and index exist (both idempotent).
    names = {service.name for service in _selected(only)}
    if "kafka" in names:
        created = kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
        if created:
            report(f"kafka: created topics {', '.join(created)}")
    if "elasticsearch" in names:
        search.ensure_index(search.client(settings), settings)


def down(settings: Settings, report: Callable[[str], None] = print, only: tuple[str, ...] | None = None) -> None:
    """Stop only what `up` started (found by pid file and command-line marker), cluster members included."""
    members = {"kafka": kafka_cluster.processes(settings), "elasticsearch": es_cluster.processes(settings)}
    for service in reversed(_selected(only)):
        for member in stop_together(members.get(service.name, [])):
            report(f"{member.name}: stopped")
        stopped = service.process(settings).stop()
        report(f"{service.name}: {'stopped' if stopped else 'was not running'}")


def _mode_file(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "run" / "mode"


def _running(settings: Settings) -> dict[str, list[str]]:
    """Names of the running processes of this state dir, by the mode that started them."""
    single = [s.name for s in SERVICES if s.name != "airflow" and s.process(settings).pid() is not None]
    members = [p.name for p in kafka_cluster.processes(settings) + es_cluster.processes(settings) if p.pid()]
    if airflow_server.process(settings).pid() is not None:
        mode = _mode_file(settings).read_text().strip() if _mode_file(settings).exists() else "single"
        (members if mode == "cluster" else single).append("airflow")
    return {"single": single, "cluster": members}


def _refuse_other_mode(settings: Settings, clustered: bool) -> None:
    other = _running(settings)["single" if clustered else "cluster"]
    if other:
        kind = "single-node stack" if clustered else "cluster"
        raise ServiceError(
            f"the {kind} of {settings.state_dir} is running ({', '.join(other)}): `newsflow stack down` first"
        )


def clustered(settings: Settings) -> bool:
    """True when members of a cluster run from this state dir."""
    return bool(_running(settings)["cluster"])


def _bring_up(
    report: Callable[[str], None],
    service: str,
    where: str,
    *,
    up: bool,
    log: str,
    start: Callable[[], None],
    members: str = "",
) -> None:
    """Start a service (or its cluster `members`, such as `3 brokers`) unless it answers already; `log` says where
    its output goes (`log: …` or `logs: …`)."""
    named = f"{service}: {members} " if members else f"{service}: "
    if up:
        report(f"{named}already up at {where}")
        return
    report(f"{service}: starting {members + ' ' if members else ''}({log})")
    start()
    report(f"{named}up at {where}")


def _cluster_up(settings: Settings, report: Callable[[str], None], only: tuple[str, ...] | None) -> None:
    names = only or tuple(s.name for s in SERVICES)
    client = cluster.client_settings(settings)
    if "kafka" in names:
        brokers = cluster.brokers(settings)
        _bring_up(
            report,
            "kafka",
            ", ".join(b.address for b in brokers),
            up=all(kafka_cluster.answers(settings, b) for b in brokers),
            log=f"logs: {brokers[0].process().run_dir}/kafka-N.log",
            start=lambda: kafka_cluster.start(settings),
            members=f"{len(brokers)} brokers",
        )
    if "elasticsearch" in names:
        members = cluster.es_members(settings)
        _bring_up(
            report,
            "elasticsearch",
            ", ".join(m.url for m in members),
            up=all(es_cluster.answers(settings, m) for m in members),
            log=f"logs: {members[0].run_dir}/elasticsearch-N.log",
            start=lambda: es_cluster.start(settings),
            members=f"{len(members)} nodes",
        )
    if "airflow" in names:
        _bring_up(
            report,
            "airflow",
            airflow_server.base_url(settings),
            up=airflow_server.process(settings).pid() is not None and bool(airflow_server.version(settings)),
            log=f"log: {airflow_server.process(settings).log_file}",
            start=lambda: airflow_server.start(client),  # its tasks get the cluster's addresses and replication
        )
    if "kafka" in names:
        created = kafka.ensure_topics(client)
        if created:
            report(f"kafka: created topics {', '.join(created)} (replication {client.topic_replication})")
    if "elasticsearch" in names:
        search.ensure_index(search.client(client), client)
    cluster.write_env_file(settings)


def status_lines(settings: Settings, *, clustered_view: bool = False) -> list[str]:
    """One line per service; per member, with leaders and shards, when a cluster runs (or is asked for)."""
    if clustered_view or clustered(settings):
        return cluster_status_lines(settings)
    lines = []
    for service in SERVICES:
        version = service.version(settings)
        running = service.process(settings).pid() is not None
        state = "up" if version else ("starting" if running else "down")
        line = f"{service.name:<14}{state:<9}{service.address(settings):<26}{version or '-'}"
        if version and service.extra(settings):
            line += f"  ({service.extra(settings)})"
        lines.append(line)
    return lines


def all_up(settings: Settings) -> bool:
    return all(service.version(settings) for service in SERVICES)


def cluster_status_lines(settings: Settings) -> list[str]:
    client = cluster.client_settings(settings)
    return [*_kafka_cluster_lines(settings, client), *_es_cluster_lines(settings, client), *_airflow_lines(settings)]


def _member_line(name: str, state: str, address: str, version: str | None, extra: str) -> str:
    line = f"{name:<17}{state:<9}{address:<26}{version or '-'}"
    return line + (f"  ({extra})" if extra else "")


def _rss(proc: ManagedProcess) -> str:
    pid = proc.pid()
    return f", RSS {rss_mb(pid):.0f} MiB" if pid is not None else ""


def _kafka_cluster_lines(settings: Settings, client: Settings) -> list[str]:
    state: kafka_cluster.ClusterState | None = None
    if any(proc.pid() is not None for proc in kafka_cluster.processes(settings)):
        try:
            state = kafka_cluster.describe(client)
        except RetryableError:
            state = None
    lines = []
    for broker in cluster.brokers(settings):
        running = broker.process().pid() is not None
        live = running and state is not None and broker.node_id in state.brokers
        extra = ""
        if state is not None and live:
            role = ", active controller" if state.controller == broker.node_id else ""
            led = f"leads {state.led_by(broker.node_id)} of {len(state.partitions)} partitions"
            extra = f"node {broker.node_id}, {led}{role}{_rss(broker.process())}"
        version = kafka_broker.KAFKA_VERSION if live else None
        lines.append(
            _member_line(
                broker.name, "up" if live else ("starting" if running else "down"), broker.address, version, extra
            )
        )
    if state is None:
        lines.append("  kafka cluster: no broker answers")
        return lines
    for topic in settings.topics:
        leaders = state.leaders(topic)
        if leaders:
            lines.append(
                f"  {topic}: partition leaders " + " ".join(f"{n}:{leader}" for n, leader in enumerate(leaders))
            )
    under = sum(1 for p in state.partitions if p.under_replicated)
    offline = sum(1 for p in state.partitions if p.leader < 0)
    lines.append(
        f"  kafka cluster: {len(state.brokers)} of {settings.cluster_brokers} brokers live, {len(state.partitions)} "
        f"partitions, {under} under-replicated, {offline} without a leader"
    )
    return lines


def _es_cluster_lines(settings: Settings, client: Settings) -> list[str]:
    health: es_cluster.ClusterHealth | None = None
    if any(proc.pid() is not None for proc in es_cluster.processes(settings)):
        try:
            health = es_cluster.health(client)
        except RetryableError:
            health = None
    lines = []
    for member in cluster.es_members(settings):
        running = member.process().pid() is not None
        version = es_cluster.answers(settings, member) if running else None
        joined = health is not None and member.node_name in health.members
        extra = ""
        if health is not None and joined:
            copies = health.shards.get(member.node_name, es_cluster.ShardCopies())
            role = "elected master, " if health.master == member.node_name else ""
            shards = f"{copies.primaries} primary and {copies.replicas} replica shards"
            extra = f"{member.node_name}, {role}{shards}{_rss(member.process())}"
        state = "up" if version and joined else ("starting" if running else "down")
        lines.append(_member_line(member.name, state, member.url, version if joined else None, extra))
    if health is None:
        lines.append("  elasticsearch cluster: no node answers")
    else:
        lines.append(
            f"  elasticsearch cluster: {health.status}, {health.nodes} of {settings.cluster_es_nodes} nodes, "
            f"{health.unassigned} unassigned shards"
        )
    return lines


def _airflow_lines(settings: Settings) -> list[str]:
    service = SERVICES[-1]
    running = service.process(settings).pid() is not None
    version = service.version(settings) if running else None
    state = "up" if version else ("starting" if running else "down")
    return [
        _member_line(
            service.name, state, service.address(settings), version, service.extra(settings) if version else ""
        )
    ]
