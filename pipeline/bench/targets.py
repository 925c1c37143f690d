"""The pipeline's performance targets, each a figure of one bench run, with its ratio to the target.

Worker CPU figures are steady-state (`e2e.Steady`: the CPU a worker spends on one more item, from the
/proc samples of the one-worker drain); Elasticsearch's and Kafka's are their processes' CPU over that
whole drain per item. The definitions:

- pipeline_cpu_per_doc_ratio_to_es: (normalize worker + index worker + Kafka) CPU per item over
  Elasticsearch's CPU per item, in the same drain;
- normalize_worker_overhead_ratio: the normalize worker's CPU per item over the transform alone (the
  normalizer in the bench's process: decode, transform, encode) plus kafka-python's own CPU per message
  read and written (the Kafka ceiling's, with the workers' producer and consumer settings);
- index_worker_overhead_ms: the index worker's CPU per document less the CPU of serializing its bulk
  request (`search.bulk_body` over the same articles, in the bench's process);
- e2e_pinned_ratio_to_es_core: with Elasticsearch on one core and the workers, Kafka and the bench on
  the other, the steady end-to-end rate over the Elasticsearch ceiling measured on that one core;
- two_worker_speedup: steady end-to-end rate with two workers per stage over one;
- freshness p95 at half the best end-to-end rate; the normalizer's seed-sized articles per second per
  core; trafilatura's time over ours on the same bodies; the workers' peak RSS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pipeline.bench.e2e import Drain

Sense = Literal["at most", "at least"]


@dataclass(frozen=True)
class Target:
    key: str  # the JSON key of the figure
    label: str
    value: float | None
    target: float
    sense: Sense
    unit: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """The figure over its target (under 1 is good for "at most", over 1 for "at least")."""
        if self.value is None or not math.isfinite(self.value) or not self.target:
            return None
        return self.value / self.target

    @property
    def met(self) -> bool | None:
        if self.value is None or not math.isfinite(self.value):
            return None
        return self.value <= self.target if self.sense == "at most" else self.value >= self.target


@dataclass(frozen=True)
class Inputs:
    """What the targets are computed from, all from one run."""

    drains: Sequence[Drain]  # unpinned, by workers per stage
    transform_ms: float  # the normalizer alone, CPU per item of the drains' corpus
    kafka_consume_ms: float  # kafka-python CPU per message read (Kafka ceiling)
    kafka_produce_ms: float  # ... and written
    bulk_serialization_ms: float  # building the index worker's bulk body, CPU per document
    pinned: Drain | None  # one worker per stage on the pipeline's core
    es_core_docs_per_s: float | None  # Elasticsearch's ceiling on its one core
    freshness_p95_s: float | None
    seed_sized_per_s_per_core: float
    trafilatura_speed_ratio: float | None
    peak_rss_mb: float | None  # the larger of the two kinds of worker


def reference_drain(drains: Sequence[Drain]) -> Drain | None:
    """The drain the CPU figures come from: one worker per stage (the fewest there are)."""
    return min(drains, key=lambda d: d.workers) if drains else None


def per_item_ms(drain: Drain) -> dict[str, float]:
    """CPU ms per item in a drain: each stage's steady figure, and each service's over the whole drain."""
    items = max(drain.items, 1)
    figures = {name: 1000 * seconds / items for name, seconds in drain.cpu_s.items()}
    for kind in ("normalize", "index"):
        figures[kind] = drain.cpu_ms_per_item(kind)
    return figures


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def compute(i: Inputs) -> list[Target]:
    ref = reference_drain(i.drains)
    ms = per_item_ms(ref) if ref else {}
    normalize, index = ms.get("normalize"), ms.get("index")
    kafka, es = ms.get("kafka", 0.0), ms.get("elasticsearch")
    pipeline = normalize + index + kafka if normalize is not None and index is not None else None
    by_workers = {d.workers: d.steady_docs_per_s for d in i.drains}
    one, two = by_workers.get(1), by_workers.get(2)
    client = i.kafka_consume_ms + i.kafka_produce_ms
    pinned_rate = i.pinned.steady_docs_per_s if i.pinned else None
    return [
        Target(
            "pipeline_cpu_per_doc_ratio_to_es",
            "Pipeline CPU per item / Elasticsearch's",
            _div(pipeline, es),
            0.5,
            "at most",
            "x",
            f"normalize {_f(normalize)} + index {_f(index)} + Kafka {_f(kafka)} ms vs Elasticsearch {_f(es)} ms "
            f"per item ({ref.workers if ref else '?'} worker(s) per stage)",
        ),
        Target(
            "normalize_worker_overhead_ratio",
            "Normalize worker CPU / (transform + kafka-python)",
            _div(normalize, i.transform_ms + client),
            1.25,
            "at most",
            "x",
            f"{_f(normalize)} ms per item vs transform {_f(i.transform_ms)} + read {_f(i.kafka_consume_ms)} + "
            f"write {_f(i.kafka_produce_ms)} ms",
        ),
        Target(
            "index_worker_overhead_ms",
            "Index worker CPU beyond the bulk body",
            index - i.bulk_serialization_ms if index is not None else None,
            0.1,
            "at most",
            "ms",
            f"{_f(index)} ms per document, of which building the bulk body {_f(i.bulk_serialization_ms, 4)} ms "
            f"and kafka-python's reading about {_f(i.kafka_consume_ms)} ms",
        ),
        Target(
            "e2e_pinned_ratio_to_es_core",
            "End to end pinned / ES ceiling on its core",
            _div(pinned_rate, i.es_core_docs_per_s),
            0.9,
            "at least",
            "x",
            f"{_f(pinned_rate, 0)} docs/s steady vs {_f(i.es_core_docs_per_s, 0)} docs/s"
            + (f"; {i.pinned.cpus}" if i.pinned and i.pinned.cpus else ""),
        ),
        Target(
            "two_worker_speedup",
            "2 workers per stage / 1",
            _div(two, one),
            1.0,
            "at least",
            "x",
            f"steady {_f(two, 0)} vs {_f(one, 0)} docs/s",
        ),
        Target("freshness_p95_s", "Freshness p95 at half the best rate", i.freshness_p95_s, 1.0, "at most", "s"),
        Target(
            "normalizer_seed_sized_articles_per_s_per_core",
            "Normalizer, seed-sized articles per core",
            i.seed_sized_per_s_per_core,
            2000.0,
            "at least",
            "/s",
        ),
        Target(
            "trafilatura_speed_ratio",
            "trafilatura's time / ours (same bodies)",
            i.trafilatura_speed_ratio,
            10.0,
            "at least",
            "x",
        ),
        Target("peak_rss_mb", "Peak RSS per worker", i.peak_rss_mb, 300.0, "at most", "MB"),
    ]


def _f(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"
