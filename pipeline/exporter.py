"""`newsflow exporter`: Prometheus metrics that no long-running worker can give.

- Source health, from the durable poll state that every poll (an Airflow task or `newsflow poll`) leaves
  under the state dir: consecutive failures, last attempt, last success, for each enabled source in the
  sources file (a removed or disabled source stops being exported, so its alerts resolve).
- Consumer-group lag from the groups' committed offsets, and the dead letters ever written (any stage, the
  poll's included), from Kafka.

Run one next to the poll state (on the Airflow worker host, which shares the state dir with the tasks).
Everything is read at scrape time, so the figures are never older than the scrape; nothing is pushed
and no textfile is written.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry

from pipeline import kafka
from pipeline.config import Settings
from pipeline.errors import NewsflowError
from pipeline.metrics import ExporterCollector, GroupLag, KafkaReading, SourceHealth, serve_registry
from pipeline.sources import manifest
from pipeline.state import StateStore
from pipeline.workers.consume import StopFlag

log = logging.getLogger(__name__)


def read_sources(settings: Settings) -> list[SourceHealth]:
    store = StateStore(settings.state_dir)
    health = []
    for entry in manifest.load(settings.sources, settings.state_dir).enabled():
        state = store.load(str(entry["id"]))
        health.append(
            SourceHealth(
                source_id=str(entry["id"]),
                type=str(entry["type"]),
                schedule=str(entry["schedule"]),
                consecutive_failures=state.consecutive_failures,
                last_attempt=state.last_attempt_at,
                last_success=state.last_success_at,
            )
        )
    return health


def read_kafka(settings: Settings) -> KafkaReading:
    pairs = (
        (settings.group_fetch, settings.topic_fetch),
        (settings.group_normalize, settings.topic_raw),
        (settings.group_index, settings.topic_articles),
    )
    try:
        lag = tuple(GroupLag(group, topic, kafka.lag(settings, group, topic)) for group, topic in pairs)
        deadletters = sum(kafka.end_offsets(settings, settings.topic_deadletter).values())
    except NewsflowError as exc:
        log.warning("cannot read Kafka: %s", exc)
        return KafkaReading(ok=False)
    return KafkaReading(ok=True, lag=lag, deadletters=deadletters)


def registry(settings: Settings) -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(ExporterCollector(lambda: read_sources(settings), lambda: read_kafka(settings)))
    return reg


def run(settings: Settings, *, port: int, host: str = "127.0.0.1", stop: StopFlag | None = None) -> int:
    """Serve until SIGTERM or Ctrl-C."""
    stop = stop or StopFlag()
    server = serve_registry(registry(settings), port, host)
    try:
        while not stop.wait(3600):
            pass
    finally:
        server.shutdown()
        server.server_close()
    return 0
