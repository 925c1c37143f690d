"""Metrics: the workers' (a small interface the loops call, a no-op when metrics are off, Prometheus when on),
and the exporter's (source health from the poll state, consumer-group lag and dead letters from Kafka).

`serve(worker, port)` builds a registry of its own (nothing is registered in prometheus_client's
global one) and serves it at `http://host:port/metrics`. Every series carries a `worker` label
(normalize or index), so one scrape job can hold both kinds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipeline.errors import ConfigError, NewsflowError

log = logging.getLogger(__name__)

BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
BULK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# From the fetch to the index: seconds to minutes when healthy, hours when a worker was down.
FETCHED_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86400)
# From publication to the index: feeds list stories hours or days old, so the range is wide.
PUBLISHED_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400)


class Indexed(Protocol):
    """What the freshness histograms read of a document written to the index (an Article has both)."""

    @property
    def fetched_at(self) -> datetime: ...
    @property
    def published_at(self) -> datetime | None: ...


class Metrics(Protocol):
    """What the worker loops report. Counts are of Kafka messages unless said otherwise."""

    def consumed(self, topic: str, count: int) -> None: ...
    def produced(self, topic: str, count: int) -> None: ...
    def failed(self, topic: str, count: int) -> None:
        """`count` messages read from `topic` were dead-lettered."""

    def batch(self, size: int) -> None: ...
    def retried(self, scope: str) -> None:
        """One retry: `batch` (the loop retries a whole batch) or `documents` (a bulk retries some documents)."""

    def bulk_request(self, seconds: float) -> None: ...
    def indexed(self, stored: Sequence[Indexed], stale: int, now: datetime) -> None:
        """Documents written (`stored`) or found older than the copy in the index (`stale`) at `now`."""

    def lag(self, topic: str, messages: int) -> None: ...
    def pages(self, result: str, seconds: float) -> None:
        """One article page handled by the fetch stage: `fetched`, `not_modified`, `retry` or `dead`."""

    def close(self) -> None: ...


class NoMetrics:
    """Metrics off: every call does nothing."""

    def consumed(self, topic: str, count: int) -> None:
        return None

    def produced(self, topic: str, count: int) -> None:
        return None

    def failed(self, topic: str, count: int) -> None:
        return None

    def batch(self, size: int) -> None:
        return None

    def retried(self, scope: str) -> None:
        return None

    def bulk_request(self, seconds: float) -> None:
        return None

    def indexed(self, stored: Sequence[Indexed], stale: int, now: datetime) -> None:
        return None

    def lag(self, topic: str, messages: int) -> None:
        return None

    def pages(self, result: str, seconds: float) -> None:
        return None

    def close(self) -> None:
        return None


NO_METRICS: Metrics = NoMetrics()


class _Families:
    """The metric families of one registry; each worker's `PrometheusMetrics` fills in its own `worker` label."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        ProcessCollector(registry=registry)
        r, w = registry, ("worker",)
        self.consumed = Counter("newsflow_messages_consumed", "Messages read from a topic.", [*w, "topic"], registry=r)
        self.produced = Counter(
            "newsflow_messages_produced", "Messages written to a topic and acknowledged.", [*w, "topic"], registry=r
        )
        self.failed = Counter(
            "newsflow_messages_failed", "Messages read from a topic that were dead-lettered.", [*w, "topic"], registry=r
        )
        self.batch = Histogram(
            "newsflow_batch_size", "Messages per batch handled.", w, buckets=BATCH_BUCKETS, registry=r
        )
        self.retries = Counter("newsflow_retries", "Retries after transient failures.", [*w, "scope"], registry=r)
        self.bulk = Histogram(
            "newsflow_bulk_request_seconds",
            "Duration of one bulk request to the index.",
            w,
            buckets=BULK_BUCKETS,
            registry=r,
        )
        self.documents = Counter(
            "newsflow_documents_indexed",
            "Documents written (stored) or older than the indexed copy (stale).",
            [*w, "result"],
            registry=r,
        )
        self.since_published = Histogram(
            "newsflow_freshness_published_seconds",
            "Seconds from an article's publication to its indexing.",
            w,
            buckets=PUBLISHED_BUCKETS,
            registry=r,
        )
        self.since_fetched = Histogram(
            "newsflow_freshness_fetched_seconds",
            "Seconds from an article's fetch to its indexing.",
            w,
            buckets=FETCHED_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "newsflow_consumer_lag_messages",
            "Messages on the assigned partitions not yet read, per topic.",
            [*w, "topic"],
            registry=r,
        )
        self.pages = Counter(
            "newsflow_pages", "Article pages handled by the fetch stage, per result.", [*w, "result"], registry=r
        )
        self.page_seconds = Histogram(
            "newsflow_page_fetch_seconds",
            "Time to fetch (politeness waits included) and extract one article page.",
            w,
            buckets=BULK_BUCKETS,
            registry=r,
        )


class PrometheusMetrics:
    """The metrics of one worker, in a registry of its own."""

    def __init__(
        self, worker: str, registry: CollectorRegistry | None = None, families: _Families | None = None
    ) -> None:
        self.worker = worker
        if families is None:
            families = _Families(registry or CollectorRegistry())
        self.registry = families.registry
        f = families
        self._consumed, self._produced, self._failed = f.consumed, f.produced, f.failed
        self._batch = f.batch.labels(worker)
        self._retries = f.retries
        self._bulk = f.bulk.labels(worker)
        self._documents = f.documents
        self._since_published = f.since_published.labels(worker)
        self._since_fetched = f.since_fetched.labels(worker)
        self._lag = f.lag
        self._pages = f.pages
        self._page_seconds = f.page_seconds.labels(worker)
        for scope in ("batch", "documents"):  # present, at zero, from the first scrape
            self._retries.labels(worker, scope)
        self._server: WSGIServer | None = None

    def consumed(self, topic: str, count: int) -> None:
        self._consumed.labels(self.worker, topic).inc(count)

    def produced(self, topic: str, count: int) -> None:
        self._produced.labels(self.worker, topic).inc(count)

    def failed(self, topic: str, count: int) -> None:
        self._failed.labels(self.worker, topic).inc(count)

    def batch(self, size: int) -> None:
        self._batch.observe(size)

    def retried(self, scope: str) -> None:
        self._retries.labels(self.worker, scope).inc()

    def bulk_request(self, seconds: float) -> None:
        self._bulk.observe(seconds)

    def indexed(self, stored: Sequence[Indexed], stale: int, now: datetime) -> None:
        self._documents.labels(self.worker, "stored").inc(len(stored))
        self._documents.labels(self.worker, "stale").inc(stale)
        for article in stored:
            self._since_fetched.observe(max(0.0, (now - article.fetched_at).total_seconds()))
            if article.published_at is not None:
                self._since_published.observe(max(0.0, (now - article.published_at).total_seconds()))

    def lag(self, topic: str, messages: int) -> None:
        self._lag.labels(self.worker, topic).set(messages)

    def pages(self, result: str, seconds: float) -> None:
        self._pages.labels(self.worker, result).inc()
        self._page_seconds.observe(seconds)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve `/metrics` from a daemon thread until `close()`."""
        self._server = serve_registry(self.registry, port, host)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def serve(worker: str, port: int, host: str = "127.0.0.1") -> Metrics:
    """Metrics of `worker` served on `host:port`, or the no-op when `port` is 0."""
    if not port:
        return NO_METRICS
    metrics = PrometheusMetrics(worker)
    metrics.serve(port, host)
    return metrics


def serve_many(workers: Sequence[str], port: int, host: str = "127.0.0.1") -> tuple[dict[str, Metrics], Metrics]:
    """Metrics of several workers of one process (`worker all`) in one registry served on `host:port`:
    each worker's own view, and the one to close. All no-ops when `port` is 0."""
    if not port:
        return dict.fromkeys(workers, NO_METRICS), NO_METRICS
    families = _Families(CollectorRegistry())
    views: dict[str, Metrics] = {}
    first: PrometheusMetrics | None = None
    for worker in workers:
        view = PrometheusMetrics(worker, families=families)
        first = first or view
        views[worker] = view
    assert first is not None
    first.serve(port, host)
    return views, first


# The exporter (`newsflow exporter`): what no long-running worker knows. Polls run in short Airflow tasks and
# leave their outcome in the durable poll state; a consumer group's lag is read from its committed offsets, so
# it is there when every worker of the group is down (when their own lag gauges are gone).


@dataclass(frozen=True)
class SourceHealth:
    """One enabled source and its poll state."""

    source_id: str
    type: str
    schedule: str
    consecutive_failures: int = 0
    last_attempt: datetime | None = None
    last_success: datetime | None = None


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    messages: int


@dataclass(frozen=True)
class KafkaReading:
    """What Kafka said at scrape time; `ok` is False (and the rest empty) when it could not be read."""

    ok: bool
    lag: tuple[GroupLag, ...] = ()
    deadletters: int | None = None  # messages ever written to the dead-letter topic (sum of its end offsets)


class ExporterCollector(Collector):
    """Builds the exporter's families at each scrape from two readers (the I/O is theirs)."""

    def __init__(self, sources: Callable[[], list[SourceHealth]], kafka: Callable[[], KafkaReading]) -> None:
        self._sources = sources
        self._kafka = kafka

    def collect(self) -> Iterator[Metric]:
        readable = GaugeMetricFamily(
            "newsflow_exporter_reading_ok", "1 when the exporter could read this part at the scrape.", labels=["part"]
        )
        try:
            sources: list[SourceHealth] | None = self._sources()
        except NewsflowError as exc:
            log.warning("cannot read the sources or their poll state: %s", exc)
            sources = None
        readable.add_metric(["sources"], 1 if sources is not None else 0)
        kafka = self._kafka()
        readable.add_metric(["kafka"], 1 if kafka.ok else 0)
        yield readable
        if sources is not None:
            yield from source_families(sources)
        if kafka.ok:
            yield from kafka_families(kafka)


def source_families(sources: Sequence[SourceHealth]) -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "newsflow_source_info", "1 for each enabled source in the sources file.", labels=["source", "type", "schedule"]
    )
    failures = GaugeMetricFamily(
        "newsflow_source_consecutive_failures",
        "Polls of the source that failed in a row (0: last poll ok).",
        labels=["source"],
    )
    attempt = GaugeMetricFamily(
        "newsflow_source_last_attempt_timestamp_seconds",
        "When the source was last polled (Unix time).",
        labels=["source"],
    )
    success = GaugeMetricFamily(
        "newsflow_source_last_success_timestamp_seconds", "When a poll of the source last succeeded.", labels=["source"]
    )
    for source in sources:
        info.add_metric([source.source_id, source.type, source.schedule], 1)
        failures.add_metric([source.source_id], source.consecutive_failures)
        if source.last_attempt is not None:
            attempt.add_metric([source.source_id], source.last_attempt.timestamp())
        if source.last_success is not None:
            success.add_metric([source.source_id], source.last_success.timestamp())
    yield from (info, failures, attempt, success)


def kafka_families(reading: KafkaReading) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "newsflow_consumer_group_lag_messages",
        "Messages on the topic that the consumer group has not committed yet (from its committed offsets).",
        labels=["group", "topic"],
    )
    for row in reading.lag:
        lag.add_metric([row.group, row.topic], row.messages)
    yield lag
    if reading.deadletters is not None:
        yield CounterMetricFamily(
            "newsflow_deadletters_written", "Dead letters ever written, by any stage.", value=reading.deadletters
        )


def serve_registry(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Serve `registry` at `http://host:port/metrics` from a daemon thread; stop with `shutdown()`."""
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from None
    log.info("serving metrics at http://%s:%d/metrics", host, port)
    return server
