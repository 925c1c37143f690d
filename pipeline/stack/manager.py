"""`newsflow stack up | down | status`: the three services together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.stack import airflow_server, es_node, kafka_broker, maven
from pipeline.stack.process import ManagedProcess


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


def up(settings: Settings, report: Callable[[str], None] = print, only: tuple[str, ...] | None = None) -> None:
    """Start what is not running yet and wait until each service answers; idempotent."""
    maven.require_tools()
    for service in _selected(only):
        if service.process(settings).pid() is not None and service.version(settings):
            report(f"{service.name}: already up at {service.address(settings)}")
            continue
        report(f"{service.name}: starting (log: {service.process(settings).log_file})")
        service.start(settings)
        report(f"{service.name}: up at {service.address(settings)}")
    # A stack is ready when the pipeline can use it: its topics and index exist (both idempotent).
    names = {service.name for service in _selected(only)}
    if "kafka" in names:
        created = kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
        if created:
            report(f"kafka: created topics {', '.join(created)}")
    if "elasticsearch" in names:
        search.ensure_index(search.client(settings), settings)


def down(settings: Settings, report: Callable[[str], None] = print, only: tuple[str, ...] | None = None) -> None:
    """Stop only what `up` started (found by pid file and command-line marker)."""
    for service in reversed(_selected(only)):
        stopped = service.process(settings).stop()
        report(f"{service.name}: {'stopped' if stopped else 'was not running'}")


def status_lines(settings: Settings) -> list[str]:
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
