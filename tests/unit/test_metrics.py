"""Metrics without a broker: what each call adds to the registry, the lag arithmetic, the per-batch accounting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import TopicPartition

from pipeline.config import Settings
from pipeline.metrics import NO_METRICS, Metrics, NoMetrics, PrometheusMetrics
from pipeline.workers.consume import assigned_lag
from pipeline.workers.main import _metered
from schemas.models import Article, SourceType

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _article(n: int, fetched_ago: timedelta, published_ago: timedelta | None) -> Article:
    return Article(
        id=f"a{n}",
        url=None,
        title="t",
        summary="s",
        body_text="b",
        published_at=NOW - published_ago if published_ago is not None else None,
        language="en",
        outlet="o",
        category="c",
        tags=[],
        keywords=[],
        char_count=1,
        content_hash="h",
        source_id="src",
        source_type=SourceType.FEED,
        fetched_at=NOW - fetched_ago,
        normalized_at=NOW,
        version=1,
        pipeline_version="0",
    )


def _value(metrics: PrometheusMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_two_workers_in_one_process_do_not_share_a_registry() -> None:
    first, second = PrometheusMetrics("normalize"), PrometheusMetrics("normalize")
    first.consumed("news.raw", 5)
    second.consumed("news.raw", 2)
    assert _value(first, "newsflow_messages_consumed_total", worker="normalize", topic="news.raw") == 5
    assert _value(second, "newsflow_messages_consumed_total", worker="normalize", topic="news.raw") == 2


def test_counters_histograms_and_gauges_move() -> None:
    m = PrometheusMetrics("index")
    m.consumed("news.articles", 3)
    m.produced("news.deadletter", 1)
    m.failed("news.articles", 1)
    m.batch(3)
    m.batch(500)
    m.retried("batch")
    m.bulk_request(0.2)
    m.lag("news.articles", 42)
    m.lag("news.articles", 7)
    assert _value(m, "newsflow_messages_consumed_total", worker="index", topic="news.articles") == 3
    assert _value(m, "newsflow_messages_produced_total", worker="index", topic="news.deadletter") == 1
    assert _value(m, "newsflow_messages_failed_total", worker="index", topic="news.articles") == 1
    assert _value(m, "newsflow_batch_size_count", worker="index") == 2
    assert _value(m, "newsflow_batch_size_bucket", worker="index", le="5.0") == 1
    assert _value(m, "newsflow_retries_total", worker="index", scope="batch") == 1
    assert _value(m, "newsflow_retries_total", worker="index", scope="documents") == 0
    assert _value(m, "newsflow_bulk_request_seconds_sum", worker="index") == 0.2
    assert _value(m, "newsflow_consumer_lag_messages", worker="index", topic="news.articles") == 7


def test_freshness_is_measured_from_fetch_and_from_publication_of_stored_documents() -> None:
    m = PrometheusMetrics("index")
    stored = [
        _article(1, timedelta(seconds=3), timedelta(hours=2)),
        _article(2, timedelta(minutes=20), None),  # no publication date: only the fetch clock
        _article(3, timedelta(seconds=-5), timedelta(seconds=-5)),  # clocks ahead of ours count as 0
    ]
    m.indexed(stored, stale=4, now=NOW)
    assert _value(m, "newsflow_documents_indexed_total", worker="index", result="stored") == 3
    assert _value(m, "newsflow_documents_indexed_total", worker="index", result="stale") == 4
    assert _value(m, "newsflow_freshness_fetched_seconds_count", worker="index") == 3
    assert _value(m, "newsflow_freshness_fetched_seconds_sum", worker="index") == 3 + 20 * 60
    assert _value(m, "newsflow_freshness_fetched_seconds_bucket", worker="index", le="5.0") == 2
    assert _value(m, "newsflow_freshness_published_seconds_count", worker="index") == 2
    assert _value(m, "newsflow_freshness_published_seconds_sum", worker="index") == 2 * 3600


def test_no_metrics_accepts_every_call() -> None:
    metrics: Metrics = NO_METRICS
    assert isinstance(metrics, NoMetrics)
    metrics.indexed([_article(1, timedelta(0), None)], 0, NOW)
    metrics.close()


@dataclass
class FakeConsumer:
    """The few consumer calls `assigned_lag` makes, with made-up offsets."""

    topics: set[str]
    highwaters: dict[TopicPartition, int | None]
    positions: dict[TopicPartition, int]
    calls: list[str] = field(default_factory=list)

    def subscription(self) -> set[str]:
        return self.topics

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters[tp]

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        self.calls.append(f"position {tp.partition} {timeout_ms}")
        return self.positions[tp]


def test_lag_is_highwater_minus_position_summed_per_topic() -> None:
    raw0, raw1, raw2 = (TopicPartition("raw", p) for p in range(3))
    consumer = FakeConsumer(
        topics={"raw", "other"},
        highwaters={raw0: 10, raw1: 5, raw2: None},  # raw2 not fetched yet: left out
        positions={raw0: 4, raw1: 5, raw2: 0},
    )
    assert assigned_lag(consumer) == {"raw": 6, "other": 0}  # no partition of `other` is ours: nothing waits
    assert all(call.endswith(" 0") for call in consumer.calls)  # never blocks on the network


@dataclass
class CountingEmitter:
    counts: dict[str, int] = field(default_factory=lambda: {"raw": 0, "article": 0, "dead": 0})


@dataclass
class Recorder:
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def produced(self, topic: str, count: int) -> None:
        self.calls.append(("produced", topic, count))

    def failed(self, topic: str, count: int) -> None:
        self.calls.append(("failed", topic, count))


def test_a_batch_reports_what_its_successful_attempt_sent() -> None:
    settings = Settings(topic_raw="r", topic_articles="a", topic_deadletter="d")
    emitter, recorder = CountingEmitter(), Recorder()
    attempts = iter([RuntimeError("first attempt fails half-way"), None])

    def handle(records: Any) -> None:
        emitter.counts["article"] += 2
        emitter.counts["dead"] += 1
        error = next(attempts)
        if error:
            raise error

    metered = _metered(handle, emitter, settings, "r", recorder)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        metered([])
    assert recorder.calls == []
    metered([])
    assert recorder.calls == [("produced", "a", 2), ("produced", "d", 1), ("failed", "r", 1)]


def _exported(collector: object) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    registry = CollectorRegistry()
    registry.register(collector)  # type: ignore[arg-type]
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def test_exporter_families_from_source_health_and_kafka() -> None:
    from datetime import UTC, datetime

    from pipeline.metrics import ExporterCollector, GroupLag, KafkaReading, SourceHealth

    ok_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    sources = [
        SourceHealth("good", "feed", "@hourly", 0, ok_at, ok_at),
        SourceHealth("bad", "jekyll", "30m", 4, ok_at, None),
        SourceHealth("new", "feed", "@hourly"),  # never polled
    ]
    kafka = KafkaReading(ok=True, lag=(GroupLag("g-n", "raw", 7), GroupLag("g-i", "articles", 0)), deadletters=12)
    got = _exported(ExporterCollector(lambda: sources, lambda: kafka))

    def value(name: str, **labels: str) -> float | None:
        return got.get((name, frozenset(labels.items())))

    assert value("newsflow_exporter_reading_ok", part="sources") == 1
    assert value("newsflow_exporter_reading_ok", part="kafka") == 1
    assert value("newsflow_source_info", source="bad", type="jekyll", schedule="30m") == 1
    assert value("newsflow_source_consecutive_failures", source="bad") == 4
    assert value("newsflow_source_consecutive_failures", source="new") == 0
    assert value("newsflow_source_last_success_timestamp_seconds", source="good") == ok_at.timestamp()
    assert value("newsflow_source_last_success_timestamp_seconds", source="bad") is None  # never succeeded
    assert value("newsflow_source_last_attempt_timestamp_seconds", source="new") is None
    assert value("newsflow_consumer_group_lag_messages", group="g-n", topic="raw") == 7
    assert value("newsflow_deadletters_written_total") == 12


def test_exporter_says_what_it_could_not_read() -> None:
    from pipeline.errors import ConfigError
    from pipeline.metrics import ExporterCollector, KafkaReading

    def broken() -> list[object]:
        raise ConfigError("sources file: not valid YAML")

    got = _exported(ExporterCollector(broken, lambda: KafkaReading(ok=False)))  # type: ignore[arg-type]
    assert got[("newsflow_exporter_reading_ok", frozenset({("part", "sources")}))] == 0
    assert got[("newsflow_exporter_reading_ok", frozenset({("part", "kafka")}))] == 0
    assert not [name for name, _ in got if name.startswith(("newsflow_source_", "newsflow_consumer_group"))]
