"""The loop every worker runs: poll a batch, handle it, then commit the offsets that fed it.

Delivery is at-least-once: offsets are committed only after the batch's output was
acknowledged (Kafka acks or Elasticsearch writes). A transient failure pauses the loop
with exponential backoff and jitter and retries the same batch; it never skips ahead.
SIGTERM or SIGINT stops the loop after the batch in hand without committing past it.
A handler may return `Postponed` records (the fetch stage's requests not due yet): their partitions are
sought back to them before the commit and paused until they are due, so they are neither lost nor read early.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaError

from pipeline.errors import NewsflowError, RetryableError
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.retry import backoff_s

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], object]
STARTING_S = 30.0  # most seconds a stage of `worker all` counts as busy while it waits for its partitions


class Interrupted(NewsflowError):
    """The worker was asked to stop in the middle of a batch; the batch stays uncommitted."""


class StopFlag:
    """Set by SIGTERM/SIGINT (or a test); checked between batches and during backoff."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)

    def install(self) -> None:
        def _handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping after the batch in hand", signum)
            self.set()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)


@dataclass
class Postponed:
    """Records a handler left for later: per (topic, partition), the first offset left and when it is due
    (epoch seconds). The loop seeks the partition back to that offset before committing, and pauses it until
    then, so nothing is lost and nothing past it is read early."""

    offsets: dict[tuple[str, int], tuple[int, float]] = field(default_factory=dict)

    def add(self, topic: str, partition: int, offset: int, due: float) -> None:
        known = self.offsets.get((topic, partition))
        if known is None or offset < known[0]:
            self.offsets[(topic, partition)] = (offset, due)


class Activity:
    """Whether the stages running in one process (`worker all`) have work in hand, and since when they have none.

    A stage is busy from the moment a poll returns records until their batch is committed, and while it
    holds work it postponed (`waiting`). `idle_for` is 0 while any stage is busy, else the seconds since
    the last batch ended: what a stage produced is polled by the next one well within a second.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._busy = 0
        self._waiting: dict[str, int] = {}
        self._last = clock()

    def begin(self) -> None:
        with self._lock:
            self._busy += 1

    def end(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last = self._clock()

    def waiting(self, stage: str, count: int) -> None:
        """`stage` holds `count` postponed records (0: none)."""
        with self._lock:
            if count != self._waiting.get(stage, 0):
                self._last = self._clock()
            self._waiting[stage] = count

    def idle_for(self) -> float:
        with self._lock:
            if self._busy or any(self._waiting.values()):
                return 0.0
            return max(0.0, self._clock() - self._last)


@dataclass
class LoopStats:
    batches: int = 0
    records: int = 0
    retries: int = 0
    commit_failures: int = 0


def run(
    consumer: Any,
    handle: Handler,
    *,
    stop: StopFlag,
    until_idle_s: float | None = None,
    max_records: int = 500,
    poll_timeout_ms: int = 500,
    on_batch: Callable[[LoopStats], None] | None = None,
    metrics: Metrics = NO_METRICS,
    lag_every_s: float = 5.0,
    activity: Activity | None = None,
    name: str = "stage",
) -> LoopStats:
    """Poll, handle and commit until `stop` (or `until_idle_s` without records).

    With `activity` (several stages in one process), the caller has called `activity.begin()` for this
    stage's start: it ends once the consumer has its partitions (or after `STARTING_S` without any).
    """
    stats = LoopStats()
    idle_since = started_at = time.monotonic()
    starting = activity is not None
    lag_at = float("-inf")
    paused: dict[TopicPartition, float] = {}
    while not stop.is_set():
        if paused:
            _resume_due(consumer, paused)
            if activity:
                activity.waiting(name, len(paused))
        if time.monotonic() - lag_at >= lag_every_s:
            lag_at = time.monotonic()
            _report_lag(consumer, metrics)
        polled = consumer.poll(timeout_ms=poll_timeout_ms, max_records=max_records)
        if activity and starting and (consumer.assignment() or time.monotonic() - started_at > STARTING_S):
            starting = False
            activity.end()
        records = [record for batch in polled.values() for record in batch]
        for tp, batch in polled.items():
            metrics.consumed(tp.topic, len(batch))
        if not records:
            if paused:
                idle_since = time.monotonic()  # postponed records are work still to do
            elif until_idle_s is not None and time.monotonic() - idle_since >= until_idle_s:
                break
            continue
        metrics.batch(len(records))
        if activity:
            activity.begin()
        try:
            handled, result = _handle_with_retry(handle, records, stop, stats, metrics)
            if not handled:
                break  # stopped while retrying: abandon the batch uncommitted
            if isinstance(result, Postponed):
                _pause(consumer, result, paused)
            _commit(consumer, stats)
        finally:
            if activity:
                activity.end()
        stats.batches += 1
        stats.records += len(records)
        idle_since = time.monotonic()
        if on_batch:
            on_batch(stats)
    return stats


def _pause(consumer: Any, postponed: Postponed, paused: dict[TopicPartition, float]) -> None:
    for (topic, partition), (offset, due) in postponed.offsets.items():
        tp = TopicPartition(topic, partition)
        consumer.seek(tp, offset)
        consumer.pause(tp)
        paused[tp] = due
        log.info("%s[%d] paused at offset %d until %s (postponed work)", topic, partition, offset, time.ctime(due))


def _resume_due(consumer: Any, paused: dict[TopicPartition, float]) -> None:
    assigned = consumer.assignment()
    now = time.time()
    for tp, due in list(paused.items()):
        if tp not in assigned:
            del paused[tp]  # a rebalance took it: its new owner reads the records again
        elif due <= now:
            consumer.resume(tp)
            del paused[tp]


def _commit(consumer: Any, stats: LoopStats) -> None:
    try:
        consumer.commit()
    except CommitFailedError as exc:
        # The group rebalanced under us: the batch will be redelivered (our writes are idempotent).
        stats.commit_failures += 1
        log.warning("commit failed after a rebalance; batch will be redelivered: %s", exc)
    except KafkaError as exc:
        stats.commit_failures += 1
        log.warning("commit failed; batch will be redelivered: %s", exc)


def assigned_lag(consumer: Any) -> dict[str, int]:
    """Messages not yet read on this consumer's partitions, per subscribed topic, without a network call.

    Uses the high-water marks that fetch responses already brought; partitions not fetched yet are left out.
    """
    assigned = consumer.assignment()
    # A subscribed topic none of whose partitions is ours has nothing waiting for this consumer.
    lag = {topic: 0 for topic in consumer.subscription() or () if all(tp.topic != topic for tp in assigned)}
    for tp in assigned:
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = consumer.position(tp, timeout_ms=0)
        if position is not None:
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, highwater - position)
    return lag


def _report_lag(consumer: Any, metrics: Metrics) -> None:
    try:
        lag = assigned_lag(consumer)
    except KafkaError as exc:  # a metric must never stop the loop
        log.debug("consumer lag not refreshed: %s", exc)
        return
    for topic, messages in lag.items():
        metrics.lag(topic, messages)


def _handle_with_retry(
    handle: Handler, records: Sequence[Any], stop: StopFlag, stats: LoopStats, metrics: Metrics
) -> tuple[bool, object]:
    attempt = 0
    while True:
        try:
            return True, handle(records)
        except Interrupted:
            return False, None
        except RetryableError as exc:
            attempt += 1
            stats.retries += 1
            metrics.retried("batch")
            wait = backoff_s(attempt, base_s=0.5, cap_s=30.0)
            log.warning(
                "transient failure (attempt %d), pausing %.1fs: %s",
                attempt,
                wait,
                exc,
                extra={"topic": records[0].topic},
            )
            if stop.wait(wait):
                return False, None
