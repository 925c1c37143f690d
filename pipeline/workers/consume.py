"""The loop every worker runs: poll a batch, handle it, then commit the offsets that fed it.

Delivery is at-least-once: offsets are committed only after the batch's output was
acknowledged (Kafka acks or Elasticsearch writes). A transient failure pauses the loop
with exponential backoff and jitter and retries the same batch; it never skips ahead.
SIGTERM or SIGINT stops the loop after the batch in hand without committing past it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kafka.errors import CommitFailedError, KafkaError

from pipeline.errors import NewsflowError, RetryableError
from pipeline.retry import backoff_s

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], object]


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
) -> LoopStats:
    stats = LoopStats()
    idle_since = time.monotonic()
    while not stop.is_set():
        polled = consumer.poll(timeout_ms=poll_timeout_ms, max_records=max_records)
        records = [record for batch in polled.values() for record in batch]
        if not records:
            if until_idle_s is not None and time.monotonic() - idle_since >= until_idle_s:
                break
            continue
        if not _handle_with_retry(handle, records, stop, stats):
            break  # stopped while retrying: abandon the batch uncommitted
        try:
            consumer.commit()
        except CommitFailedError as exc:
            # The group rebalanced under us: the batch will be redelivered (our writes are idempotent).
            stats.commit_failures += 1
            log.warning("commit failed after a rebalance; batch will be redelivered: %s", exc)
        except KafkaError as exc:
            stats.commit_failures += 1
            log.warning("commit failed; batch will be redelivered: %s", exc)
        stats.batches += 1
        stats.records += len(records)
        idle_since = time.monotonic()
        if on_batch:
            on_batch(stats)
    return stats


def _handle_with_retry(handle: Handler, records: Sequence[Any], stop: StopFlag, stats: LoopStats) -> bool:
    attempt = 0
    while True:
        try:
            handle(records)
            return True
        except Interrupted:
            return False
        except RetryableError as exc:
            attempt += 1
            stats.retries += 1
            wait = backoff_s(attempt, base_s=0.5, cap_s=30.0)
            log.warning("transient failure (attempt %d), pausing %.1fs: %s", attempt, wait, exc)
            if stop.wait(wait):
                return False
