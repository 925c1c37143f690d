"""Worker entry points: build a stage's clients from settings and run the shared loop until stopped or idle.

`run_stage` runs one stage of the table (`pipeline.workers.stages`); `run_all` runs every stage in one
process, one thread each, and with `until_idle_s` stops them together once none has had anything to do
for that long (what a stage produced is picked up by the next one well within a second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any

from pipeline import kafka
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import RetryableError
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.retry import backoff_s
from pipeline.workers.consume import Activity, LoopStats, Postponed, StopFlag, run
from pipeline.workers.output import emit
from pipeline.workers.stages import STAGES

log = logging.getLogger(__name__)


def run_stage(
    settings: Settings,
    name: str,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Metrics = NO_METRICS,
    activity: Activity | None = None,
) -> LoopStats:
    spec = STAGES[name]
    stop = stop or StopFlag()
    topics = spec.topics(settings)
    started = time.monotonic()
    attempt = 0
    while True:
        resources = ExitStack()
        try:
            kafka.ensure_topics(settings, list(dict.fromkeys([*settings.topics, *topics])))
            handler = spec.open(settings, stop, metrics)
            resources.callback(handler.close)
            emitter = KafkaEmitter(settings)
            resources.callback(emitter.close)
            consumer = kafka.consumer(
                settings,
                spec.group(settings),
                topics,
                fetch_max_wait_ms=spec.batch_wait_ms(settings),
                fetch_min_bytes=settings.batch_min_bytes,
            )
            resources.callback(consumer.close, autocommit=False)
            break
        except RetryableError as exc:
            # Kafka or Elasticsearch not there yet (starting, restarting): a long-running worker waits for
            # them; one that runs until idle gives up after that long.
            resources.close()
            attempt += 1
            if until_idle_s is not None and time.monotonic() - started >= until_idle_s:
                raise
            wait = backoff_s(attempt, base_s=0.5, cap_s=10.0)
            log.warning("%s: cannot start yet (attempt %d), retrying in %.1fs: %s", name, attempt, wait, exc)
            if stop.wait(wait):
                return LoopStats()
    try:

        def handle(records: Sequence[Any]) -> Postponed:
            output = handler.handle(records)
            emit(output, emitter)
            return output.postponed

        _at_zero(metrics, reads=topics[0], writes=(settings.topic_deadletter,))
        return run(
            consumer,
            _metered(handle, emitter, settings, topics[0], metrics),
            stop=stop,
            until_idle_s=until_idle_s,
            max_records=spec.batch_size(settings),
            on_batch=_progress(name),
            metrics=metrics,
            activity=activity,
            name=name,
        )
    finally:
        resources.close()  # the consumer first (uncommitted), then the producer, then the handler's clients


def run_normalizer(
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Metrics = NO_METRICS,
) -> LoopStats:
    return run_stage(settings, "normalize", until_idle_s=until_idle_s, stop=stop, metrics=metrics)


def run_indexer(
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Metrics = NO_METRICS,
) -> LoopStats:
    return run_stage(settings, "index", until_idle_s=until_idle_s, stop=stop, metrics=metrics)


def run_all(
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    stop: StopFlag | None = None,
    metrics: Mapping[str, Metrics] | None = None,
) -> dict[str, LoopStats]:
    """Every stage in this process until stopped, or until all were idle for `until_idle_s` together.

    A stage that fails stops the others, and its error is raised once all have stopped.
    """
    stop = stop or StopFlag()
    activity = Activity()
    results: dict[str, LoopStats] = {}
    errors: list[BaseException] = []

    def stage(name: str) -> None:
        try:
            results[name] = run_stage(
                settings, name, stop=stop, metrics=(metrics or {}).get(name, NO_METRICS), activity=activity
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread once all stopped
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=stage, args=(name,), name=f"newsflow-{name}", daemon=True) for name in STAGES]
    for thread in threads:
        activity.begin()  # a stage counts as busy until its consumer has its partitions
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if until_idle_s is not None and not stop.is_set() and activity.idle_for() >= until_idle_s:
            log.info("every stage idle for %.1fs: stopping", until_idle_s)
            stop.set()
        for thread in threads:
            thread.join(0.05)
    if errors:
        raise errors[0]
    return results


def _at_zero(metrics: Metrics, *, reads: str, writes: Sequence[str]) -> None:
    """Series present at zero from the first scrape, so that alerts on their increase see the first event too."""
    metrics.consumed(reads, 0)
    metrics.failed(reads, 0)
    for topic in writes:
        metrics.produced(topic, 0)


def _metered(
    handle: Callable[[Sequence[Any]], object], emitter: KafkaEmitter, settings: Settings, source: str, metrics: Metrics
) -> Callable[[Sequence[Any]], object]:
    """`handle`, reporting what the batch produced once it succeeded (every attempt re-sends the whole batch,
    so the emitter's counts over the successful attempt are exactly the batch's output)."""

    def metered(records: Sequence[Any]) -> object:
        before = dict(emitter.counts)
        result = handle(records)
        sent = {kind: emitter.counts[kind] - before[kind] for kind in before}
        topics = {
            "raw": settings.topic_raw,
            "article": settings.topic_articles,
            "dead": settings.topic_deadletter,
            "fetch": settings.topic_fetch,
            "retry": settings.topic_fetch_retry,
        }
        for kind, count in sent.items():
            if count:
                metrics.produced(topics[kind], count)
        if sent["dead"]:
            metrics.failed(source, sent["dead"])
        return result

    return metered


def _progress(kind: str) -> Any:
    def report(stats: LoopStats) -> None:
        log.info("%s: %d records in %d batches (%d retries)", kind, stats.records, stats.batches, stats.retries)

    return report
