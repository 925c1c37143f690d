"""Worker entry points: build clients from settings, run the loop until stopped or idle."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.workers import index, normalize
from pipeline.workers.consume import LoopStats, StopFlag, run

log = logging.getLogger(__name__)


def run_normalizer(
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Metrics = NO_METRICS,
) -> LoopStats:
    stop = stop or StopFlag()
    kafka.ensure_topics(settings)
    emitter = KafkaEmitter(settings)
    consumer = kafka.consumer(
        settings,
        settings.group_normalize,
        [settings.topic_raw],
        fetch_max_wait_ms=settings.normalize_batch_wait_ms,
        fetch_min_bytes=settings.batch_min_bytes,
    )
    try:
        return run(
            consumer,
            _metered(partial(normalize.handle_batch, emitter=emitter), emitter, settings, settings.topic_raw, metrics),
            stop=stop,
            until_idle_s=until_idle_s,
            max_records=settings.normalize_batch_size,
            on_batch=_progress("normalize"),
            metrics=metrics,
        )
    finally:
        consumer.close(autocommit=False)
        emitter.close()


def run_indexer(
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Metrics = NO_METRICS,
) -> LoopStats:
    stop = stop or StopFlag()
    kafka.ensure_topics(settings)
    es = search.client(settings)
    search.ensure_index(es, settings)
    emitter = KafkaEmitter(settings)
    consumer = kafka.consumer(
        settings,
        settings.group_index,
        [settings.topic_articles],
        fetch_max_wait_ms=settings.index_batch_wait_ms,
        fetch_min_bytes=settings.batch_min_bytes,
    )

    def handle(records: Sequence[Any]) -> None:
        index.handle_batch(records, es, settings.index_alias, emitter, wait=stop.wait, metrics=metrics)

    try:
        return run(
            consumer,
            _metered(handle, emitter, settings, settings.topic_articles, metrics),
            stop=stop,
            until_idle_s=until_idle_s,
            max_records=settings.index_batch_size,
            on_batch=_progress("index"),
            metrics=metrics,
        )
    finally:
        consumer.close(autocommit=False)
        emitter.close()
        es.close()


def _metered(
    handle: Callable[[Sequence[Any]], object], emitter: KafkaEmitter, settings: Settings, source: str, metrics: Metrics
) -> Callable[[Sequence[Any]], None]:
    """`handle`, reporting what the batch produced once it succeeded (every attempt re-sends the whole batch,
    so the emitter's counts over the successful attempt are exactly the batch's output)."""

    def metered(records: Sequence[Any]) -> None:
        before = dict(emitter.counts)
        handle(records)
        sent = {kind: emitter.counts[kind] - before[kind] for kind in before}
        topics = {"raw": settings.topic_raw, "article": settings.topic_articles, "dead": settings.topic_deadletter}
        for kind, count in sent.items():
            if count:
                metrics.produced(topics[kind], count)
        if sent["dead"]:
            metrics.failed(source, sent["dead"])

    return metered


def _progress(kind: str) -> Any:
    def report(stats: LoopStats) -> None:
        log.info("%s: %d records in %d batches (%d retries)", kind, stats.records, stats.batches, stats.retries)

    return report
