"""Items flowing steadily while members fail, and what the index saw of it.

`Feeder` produces known items in small batches at a steady pace (a batch the cluster refused is produced
again, with the same ids and versions, as a poll would); `StallMeter` counts the documents every quarter
second, so the longest time without a new document is measured from outside the pipeline.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import NewsflowError
from tests.faults import items
from tests.faults.invariants import Figures, wait_drained
from tests.faults.workers import Workers
from tests.support import stacks


class Feeder:
    """`batch` stories every `every_s` seconds (plus updates and invalid items, see `items.push`)."""

    def __init__(self, settings: Settings, *, batch: int = 10, every_s: float = 0.5, seed: int = 500) -> None:
        self.settings = settings
        self.batch = batch
        self.every_s = every_s
        self.seed = seed
        self.expected = items.Expected()
        self.batches = 0
        self.refused = 0  # batches produced again after the cluster refused or timed out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)

    def start(self) -> Feeder:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 180) -> items.Expected:
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        assert not self._thread.is_alive(), "the feeder could not finish its last batch"
        return self.expected

    def _run(self) -> None:
        emitter: KafkaEmitter | None = None
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                emitter = emitter or KafkaEmitter(self.settings)
                got = items.push(
                    emitter, self.batch, seed=self.seed + self.batches, start=(self.seed + self.batches) * 1000
                )
            except NewsflowError:
                self.refused += 1
                if emitter is not None:
                    emitter.close()
                emitter = None
                time.sleep(0.5)
                continue
            self.expected.versions.update(got.versions)
            self.expected.invalid |= got.invalid
            self.expected.raw_messages += got.raw_messages
            self.batches += 1
            self._stop.wait(max(0.0, self.every_s - (time.monotonic() - started)))
        if emitter is not None:
            emitter.close()


@dataclass
class StallMeter:
    """Samples the document count of `alias` through every node; a stall is a time without a new document."""

    settings: Settings
    every_s: float = 0.25
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, new highest count)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> StallMeter:
        self._thread = threading.Thread(target=self._run, name="stall-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        es = search.client(self.settings, timeout_s=2)
        highest = 0
        while not self._stop.wait(self.every_s):
            count = _count(es, self.settings.index_alias)
            if count is not None and count > highest:
                highest = count
                self.samples.append((time.monotonic(), count))
        es.close()

    def longest_stall(self, since: float | None = None, until: float | None = None) -> float:
        """The longest time between two increases of the count, from the first document to the last
        (optionally only the gaps that overlap [since, until])."""
        times = [t for t, _ in self.samples]
        gaps = [
            (b - a)
            for a, b in itertools.pairwise(times)
            if (since is None or b >= since) and (until is None or a <= until)
        ]
        return max(gaps, default=0.0)

    def first_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the first new document after it."""
        return next((t - moment for t, _ in self.samples if t > moment), None)


def _count(es: Elasticsearch, alias: str) -> int | None:
    try:
        return int(es.count(index=alias)["count"])
    except (ApiError, TransportError):
        return None


def reprocessed(settings: Settings, expected: items.Expected) -> int:
    """Articles produced beyond one per valid raw message: raw records a normalizer handled again (after a
    rebalance, before its commit). Exact when the feeder never had to produce a batch again."""
    articles = sum(kafka.end_offsets(settings, settings.topic_articles).values())
    raw = sum(kafka.end_offsets(settings, settings.topic_raw).values())
    return articles - (raw - len(expected.invalid))


def report(scenario: str, figures: Figures, stall_s: float, detail: str) -> str:
    return (
        f"[{scenario}] items {figures.unique_items}, documents {figures.documents}, lost {figures.lost}, "
        f"duplicated {figures.duplicates}, stale {figures.stale}, dead letters {figures.dead_letter_items} "
        f"({figures.unexpected_dead} unexpected), longest stall {stall_s:.1f}s; {detail}"
    )


@dataclass
class Flow:
    """What a scenario in `flowing` works with, and what it left: the items produced (`expected`), the
    workers alive once drained and their exit codes."""

    settings: Settings
    workers: Workers
    feeder: Feeder
    meter: StallMeter
    expected: items.Expected | None = None
    alive: dict[str, int] = field(default_factory=dict)
    codes: dict[str, list[int | None]] = field(default_factory=dict)


def _wait_for_documents(settings: Settings, timeout_s: float = 120) -> None:
    es = search.client(settings)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if es.count(index=settings.index_alias)["count"] > 0:
                return
            time.sleep(0.25)
        raise AssertionError("no document was indexed")
    finally:
        es.close()


@contextmanager
def flowing(settings: Settings, log_dir: Path, *, seed: int, normalizers: int = 1) -> Iterator[Flow]:
    """Topics and index prepared, `normalizers` normalize workers and one index worker started, items fed and
    documents counted; the body runs once the first document is indexed. After it: the feeder stops, the
    pipeline drains, the workers still alive are counted, and every worker is stopped (also on failure)."""
    stacks.prepare(settings)
    workers = Workers(settings, log_dir)
    workers.start("normalize", normalizers)
    workers.start("index")
    feeder = Feeder(settings, seed=seed).start()
    meter = StallMeter(settings).start()
    flow = Flow(settings, workers, feeder, meter)
    try:
        _wait_for_documents(settings)
        yield flow
        flow.expected = feeder.stop()
        wait_drained(settings)
        meter.stop()
        flow.alive = workers.alive()
    finally:
        feeder.stop()
        meter.stop()
        flow.codes = workers.stop()
