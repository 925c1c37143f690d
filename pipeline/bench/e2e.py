"""End to end through the real worker processes: draining a full raw topic, and freshness at a steady rate.

Drain: the raw topic already holds every item; N normalize and N index workers start together and
the clock runs from their launch until both consumer groups have committed everything and the
alias counts every unique article (a plain `_count`: it sees only refreshed, i.e. searchable, data).

While it drains, the bench samples every quarter second the searchable count, the offsets each
group committed and each worker's CPU time (/proc): throughput over time, the steady rate (from 10%
to 90% of the articles searchable, so the workers' start and the last batch's wait are left out), and
each stage's steady CPU per item (from the batch that takes its group past 10% of its input to its
last commit: the CPU a worker spends on one more item, without the seconds of imports and model
loading at its start, which are reported on their own as startup CPU).

Freshness: workers running; a producer thread appends raw items at a fixed rate, and a poller
thread searches for the ids in flight with a `terms` query on `id` (a search, so it respects the
refresh interval, unlike a realtime GET). Latency = first search that returns the id - append time.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from pipeline import kafka, search
from pipeline.bench.pinning import Cpus
from pipeline.bench.procs import CpuMeter, WorkerSet
from pipeline.bench.profiles import Recorder, Summary
from pipeline.config import Settings
from pipeline.errors import RetryableError
from schemas.models import RawItem

log = logging.getLogger(__name__)

CHECK_EVERY_S = 0.25
DRAIN_IDLE_S = 60.0  # the workers' --until-idle: a safety net, the bench stops them itself
SEARCH_EVERY_S = 0.05
SEARCH_BATCH = 5000
WARMUP_ITEMS = 3
WARMUP_TIMEOUT_S = 120.0
GRACE_S = 30.0  # after the last append, how long to wait for the stragglers
STEADY_FROM = 0.1  # the steady window starts once this share of a stage's input is committed ...
STEADY_TO = 0.9  # ... and, for the rate, ends once this share of the articles is searchable
KINDS = ("normalize", "index")


@dataclass(frozen=True)
class Sample:
    """One look at a drain, `t` seconds after the workers were launched."""

    t: float
    searchable: int
    committed: dict[str, int]  # per stage: offsets its group has committed (items it has finished)
    cpu_s: dict[str, float]  # per stage: its workers' CPU seconds so far
    started: dict[str, int] = field(default_factory=dict)  # per stage: workers past their startup (a batch handled)


@dataclass(frozen=True)
class Steady:
    """A stage's CPU per item in the steady window, and what its workers spent before it (startup)."""

    ms_per_item: float
    startup_cpu_s: float  # per worker: CPU before the window less what its items took (imports, models, joining)
    items: int  # items in the window
    window_s: tuple[float, float]


def _all_started(sample: Sample, kinds: Sequence[str], workers: int) -> bool:
    return all(sample.started.get(kind, 0) >= workers for kind in kinds)


def steady_cpu(series: Sequence[Sample], kind: str, workers: int) -> Steady | None:
    """CPU per item of stage `kind` from the first sample past `STEADY_FROM` of its final commit with every
    worker of the stage past its startup (a late worker's imports would count as items' CPU otherwise) to
    the first sample at its final commit; None when the window holds no item (a corpus of one batch)."""
    final = max((s.committed.get(kind, 0) for s in series), default=0)
    if final <= 0:
        return None
    begun = [s for s in series if s.committed.get(kind, 0) >= STEADY_FROM * final]
    start = next((s for s in begun if _all_started(s, [kind], workers)), begun[0] if begun else None)
    end = next((s for s in series if s.committed.get(kind, 0) >= final), None)
    if start is None or end is None:
        return None
    items = end.committed[kind] - start.committed[kind]
    cpu = end.cpu_s[kind] - start.cpu_s[kind]
    if items <= 0 or cpu <= 0:
        return None
    per_item = cpu / items
    startup = max(start.cpu_s[kind] - per_item * start.committed[kind], 0.0) / max(workers, 1)
    return Steady(1000 * per_item, startup, items, (start.t, end.t))


def steady_rate(series: Sequence[Sample], unique: int, items: int, workers: int = 1) -> float | None:
    """Items per second while `STEADY_FROM` to `STEADY_TO` of the `unique` articles became searchable, counted
    from when every worker is past its startup if that is later (searchable articles scaled by items / unique:
    duplicates and updates are spread over the stream); up to the end when the workers started past `STEADY_TO`."""
    if unique <= 0 or not series:
        return None
    begun = [s for s in series if s.searchable >= STEADY_FROM * unique]
    start = next((s for s in begun if _all_started(s, KINDS, workers)), begun[0] if begun else None)
    if start is None:
        return None
    end = next((s for s in series if s.searchable >= STEADY_TO * unique and s.t > start.t), series[-1])
    if end.t <= start.t or end.searchable <= start.searchable:
        return None
    return (end.searchable - start.searchable) * items / unique / (end.t - start.t)


def throughput(series: Sequence[Sample], unique: int, items: int, step_s: float = 1.0) -> list[tuple[float, float]]:
    """(seconds since launch, items per second) over consecutive windows of about `step_s`."""
    points: list[tuple[float, float]] = []
    scale = items / unique if unique else 1.0
    last: Sample | None = None
    for sample in series:
        if last is None:
            last = sample
            continue
        if sample.t - last.t >= step_s:
            rate = (sample.searchable - last.searchable) * scale / (sample.t - last.t)
            points.append((round(sample.t, 2), round(max(rate, 0.0), 1)))
            last = sample
    return points


@dataclass
class Drain:
    workers: int
    items: int
    unique: int
    seconds: float
    first_searchable_s: float
    count: int
    busy_cores: float
    cpu_s: dict[str, float]  # workers by kind, the stack's services, the bench
    peak_rss_kb: dict[str, int]
    others: list[tuple[str, float]] = field(default_factory=list)  # other busy processes on the machine
    series: list[Sample] = field(default_factory=list)
    cpus: str | None = None  # "normalize, index and Kafka on cores 1; Elasticsearch on 0" when pinned
    profiles: dict[str, Summary] = field(default_factory=dict)  # py-spy's top frames per worker kind
    profile_note: str | None = None

    @property
    def docs_per_s(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_docs_per_s(self) -> float:
        """The steady rate (`steady_rate`); the rate from launch when the run was too short to have one."""
        return steady_rate(self.series, self.unique, self.items, self.workers) or self.docs_per_s

    def steady(self, kind: str) -> Steady | None:
        return steady_cpu(self.series, kind, self.workers)

    def cpu_ms_per_item(self, kind: str) -> float:
        """A stage's steady CPU per item, or its whole CPU over the items when there is no steady window."""
        steady = self.steady(kind)
        if steady is not None:
            return steady.ms_per_item
        return 1000 * self.cpu_s.get(kind, 0.0) / max(self.items, 1)


@dataclass
class Freshness:
    workers: int
    rate_per_s: float
    duration_s: float
    sent: int
    latencies_s: list[float] = field(default_factory=list)
    missing: int = 0
    busy_cores: float = 0.0
    peak_rss_kb: dict[str, int] = field(default_factory=dict)
    warm_rss_kb: dict[str, int] = field(default_factory=dict)  # resident once started and warmed up, before load

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_s, p)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _count(es: Elasticsearch, alias: str) -> int:
    try:
        return int(es.count(index=alias)["count"])
    except Exception:  # noqa: BLE001 - the index worker may not have created the index yet
        return 0


def drain(
    settings: Settings,
    workers: int,
    items: int,
    unique: int,
    *,
    timeout_s: float,
    log_dir: Path,
    cpus: Cpus | None = None,
    cpus_note: str | None = None,
    profile: Recorder | None = None,
) -> Drain:
    """Start `workers` normalize and index workers on a raw topic holding `items` items; time until searchable.

    With `cpus`, the workers run on those cores only (the caller pins the services); with `profile`, py-spy
    records each worker from its first handled batch on."""
    kafka.ensure_topics(settings)
    es = search.client(settings)
    search.ensure_index(es, settings)
    group = WorkerSet(settings, workers, DRAIN_IDLE_S, log_dir, cpus=cpus)
    meter = CpuMeter(settings)
    series: list[Sample] = []
    profiled: set[int] = set()
    with kafka.admin(settings) as admin:
        meter.start()
        start = time.perf_counter()
        group.start()
        first = math.nan
        count = 0
        try:
            while True:
                time.sleep(CHECK_EVERY_S)
                now = time.perf_counter() - start
                count = _count(es, settings.index_alias)
                committed = _committed_by_stage(admin, settings)
                series.append(
                    Sample(
                        round(now, 3),
                        count,
                        committed,
                        {k: group.cpu_now(k) for k in KINDS},
                        {k: group.started(k) for k in KINDS},
                    )
                )
                if profile is not None:
                    for worker in group.workers:
                        if worker.pid not in profiled and worker.handled_a_batch():
                            profiled.add(worker.pid)
                            profile.attach(worker.kind, worker.pid)
                if count and math.isnan(first):
                    first = now
                if count >= unique and committed["normalize"] >= items and _index_done(settings, committed["index"]):
                    break
                if failures := group.failed():
                    raise RetryableError("; ".join(failures))
                if now > timeout_s:
                    raise RetryableError(
                        f"end to end with {workers} worker(s) per stage: {count} of {unique} articles searchable "
                        f"after {timeout_s:.0f}s (worker logs: {log_dir})"
                    )
            seconds = time.perf_counter() - start
            use = meter.stop(exclude={worker.pid for worker in group.workers})
        finally:
            group.stop()
            es.close()
            if profile is not None:
                profile.wait()
    # Workers' CPU comes from wait4() at their exit: the batch they finish after SIGTERM is not worth a correction.
    cpu = {kind: group.cpu_s(kind) for kind in KINDS}
    cpu.update(use.by_name)
    return Drain(
        workers,
        items,
        unique,
        seconds,
        first,
        count,
        use.busy_cores,
        cpu,
        {kind: group.peak_rss_kb(kind) for kind in KINDS},
        use.others,
        series,
        cpus_note,
        profile.summaries() if profile is not None else {},
        profile.problem if profile is not None else None,
    )


def _committed_by_stage(admin: Any, settings: Settings) -> dict[str, int]:
    """Offsets committed so far by the normalize group (on the raw topic) and the index group (on articles)."""
    wanted = {
        "normalize": (settings.group_normalize, settings.topic_raw),
        "index": (settings.group_index, settings.topic_articles),
    }
    found: dict[str, int] = {}
    for kind, (group, topic) in wanted.items():
        offsets = admin.list_group_offsets({group: None}).get(group, {})
        found[kind] = sum(max(o.offset, 0) for tp, o in offsets.items() if tp.topic == topic)
    return found


def _index_done(settings: Settings, committed: int) -> bool:
    """The index group has committed up to the end of the articles topic."""
    return committed >= sum(kafka.end_offsets(settings, settings.topic_articles).values())


class _Clock:
    """Append times of the ids in flight, and the latencies of those found (shared by the two threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: dict[str, float] = {}
        self.found: dict[str, float] = {}
        self._pending: dict[str, None] = {}  # sent and not found yet, oldest first

    def appended(self, item_id: str, at: float) -> None:
        with self._lock:
            self.sent[item_id] = at
            if item_id not in self.found:
                self._pending[item_id] = None

    def pending(self) -> list[str]:
        with self._lock:
            return list(islice(self._pending, SEARCH_BATCH))

    def seen(self, ids: Sequence[str], at: float) -> None:
        with self._lock:
            for item_id in ids:
                if item_id in self._pending:
                    del self._pending[item_id]
                    self.found[item_id] = at - self.sent[item_id]


def _searchable(es: Elasticsearch, alias: str, ids: Sequence[str]) -> list[str]:
    """Which of `ids` a search returns now (a search: only refreshed documents count)."""
    resp = es.search(index=alias, query={"terms": {"id": list(ids)}}, size=len(ids), source=False)
    return [hit["_id"] for hit in resp["hits"]["hits"]]


def _poll(es: Elasticsearch, alias: str, clock: _Clock, stop: threading.Event) -> None:
    while not stop.is_set():
        ids = clock.pending()
        if ids:
            try:
                clock.seen(_searchable(es, alias, ids), time.perf_counter())
            except Exception as exc:  # noqa: BLE001 - a slow search must not end the measurement
                log.warning("freshness search failed (will retry): %s", exc)
        stop.wait(SEARCH_EVERY_S)


def _produce(settings: Settings, items: Sequence[RawItem], rate: float, clock: _Clock) -> None:
    producer = kafka.producer(settings)
    try:
        start = time.perf_counter()
        for n, item in enumerate(items):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            value = item.model_dump_json().encode()
            clock.appended(item.item_id, time.perf_counter())
            kafka.send(producer, settings.topic_raw, item.item_id, value, kafka.headers_for(item, item.source.id))
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)


def freshness(
    settings: Settings, workers: int, items: Sequence[RawItem], rate: float, duration_s: float, *, log_dir: Path
) -> Freshness:
    """Latency from append to searchable, at `rate` items/s for `duration_s` seconds."""
    kafka.ensure_topics(settings)
    es = search.client(settings)
    search.ensure_index(es, settings)
    wanted = max(int(rate * duration_s), 1)
    if len(items) < wanted + WARMUP_ITEMS:
        raise ValueError(f"freshness needs {wanted + WARMUP_ITEMS} items, got {len(items)}")
    group = WorkerSet(settings, workers, None, log_dir)
    group.start()
    result = Freshness(workers, rate, duration_s, wanted)
    try:
        _warm_up(settings, es, items[:WARMUP_ITEMS], group)
        result.warm_rss_kb = {kind: group.current_rss_kb(kind) for kind in ("normalize", "index")}
        clock = _Clock()
        stop = threading.Event()
        poller = threading.Thread(target=_poll, args=(es, settings.index_alias, clock, stop), daemon=True)
        meter = CpuMeter(settings)
        meter.start()
        poller.start()
        _produce(settings, items[WARMUP_ITEMS : WARMUP_ITEMS + wanted], rate, clock)
        result.busy_cores = meter.stop(exclude={worker.pid for worker in group.workers}).busy_cores
        deadline = time.perf_counter() + GRACE_S
        while len(clock.found) < len(clock.sent) and time.perf_counter() < deadline:
            time.sleep(0.1)
        stop.set()
        poller.join(timeout=10)
        result.latencies_s = list(clock.found.values())
        result.missing = len(clock.sent) - len(clock.found)
    finally:
        group.stop()
        es.close()
    result.peak_rss_kb = {kind: group.peak_rss_kb(kind) for kind in ("normalize", "index")}
    return result


def _warm_up(settings: Settings, es: Elasticsearch, items: Sequence[RawItem], group: WorkerSet) -> None:
    """Send a few items and wait until they are searchable: the workers have joined and are flowing."""
    clock = _Clock()
    _produce(settings, items, rate=1000.0, clock=clock)
    ids = [item.item_id for item in items]
    deadline = time.perf_counter() + WARMUP_TIMEOUT_S
    while len(_searchable(es, settings.index_alias, ids)) < len(set(ids)):
        if failures := group.failed():
            raise RetryableError("; ".join(failures))
        if time.perf_counter() > deadline:
            raise RetryableError(f"freshness warm-up: items not searchable after {WARMUP_TIMEOUT_S:.0f}s")
        time.sleep(0.2)
