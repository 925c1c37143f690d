"""The bench's pure decisions: percentiles and which component is the bottleneck, from a table of figures."""

from __future__ import annotations

import math

import pytest

from pipeline.bench.e2e import Drain, percentile
from pipeline.bench.report import Figures, bottleneck, cpu_bound_docs_per_s, load_of


def drain(
    workers: int,
    docs_per_s: float,
    *,
    busy_cores: float,
    normalize_cpu_share: float = 0.3,
    index_cpu_share: float = 0.2,
    es_cpu_s: float = 10.0,
) -> Drain:
    seconds, items = 100.0, int(docs_per_s * 100)
    return Drain(
        workers=workers,
        items=items,
        unique=items,
        seconds=seconds,
        first_searchable_s=3.0,
        count=items,
        busy_cores=busy_cores,
        cpu_s={
            "normalize": normalize_cpu_share * seconds * workers,
            "index": index_cpu_share * seconds * workers,
            "elasticsearch": es_cpu_s,
            "kafka": 2.0,
        },
        peak_rss_kb={"normalize": 250_000, "index": 100_000},
        others=[("java (4242)", 12.0)],
    )


def figures(drains: list[Drain], es_ceiling: float = 1000, crc: str = "c") -> Figures:
    return Figures(
        es_ceiling=es_ceiling,
        drains=drains,
        cores=2,
        transform_ms=0.8,
        kafka_consume_ms=1.2,
        kafka_produce_ms=1.4,
        crc_implementation=crc,
        crc_ms_per_item=2.0 if crc == "pure-python" else 0.0,
    )


@pytest.mark.parametrize(
    ("drains", "es_ceiling", "component", "says"),
    [
        # Cores saturated: the verdict names the largest consumer of CPU per item.
        ([drain(1, 300, busy_cores=1.9, normalize_cpu_share=0.95)], 1000, "cores", "the most: normalize workers"),
        ([drain(1, 300, busy_cores=1.95, es_cpu_s=150)], 1000, "cores", "the most: Elasticsearch"),
        # Close to the ceiling with cores to spare: Elasticsearch.
        ([drain(1, 500, busy_cores=0.9), drain(2, 900, busy_cores=1.4)], 1000, "elasticsearch", "90%"),
        # One normalize process pegs its core, the machine is not full: the normalizer.
        ([drain(1, 300, busy_cores=1.2, normalize_cpu_share=0.95)], 1000, "normalizer", "95%"),
        ([drain(1, 300, busy_cores=1.2, index_cpu_share=0.9)], 1000, "index worker", "90%"),
        # Nothing saturated: waiting on round trips.
        ([drain(1, 100, busy_cores=0.6), drain(2, 120, busy_cores=0.8)], 1000, "waiting", "x1.20"),
    ],
)
def test_bottleneck_from_the_figures(drains: list[Drain], es_ceiling: float, component: str, says: str) -> None:
    verdict = bottleneck(figures(drains, es_ceiling))
    assert verdict.component == component
    assert says in verdict.reason


def test_saturated_cores_name_what_ran_outside_the_pipeline() -> None:
    verdict = bottleneck(figures([drain(1, 300, busy_cores=1.9)]))
    assert "java (4242) 12 s" in verdict.reason and "outside the pipeline" in verdict.reason


def test_a_worker_cpu_is_split_into_transform_and_kafka_client() -> None:
    # 1 normalize worker, 95% of a core for 100 s over 30,000 items: 3.17 ms per item.
    verdict = bottleneck(figures([drain(1, 300, busy_cores=1.2, normalize_cpu_share=0.95)], crc="pure-python"))
    assert "3.17 ms CPU per item: 0.80 ms transforming" in verdict.reason
    assert "~2.37 ms in kafka-python" in verdict.reason  # capped at what is left of the worker's CPU
    assert "`crc32c` package is not installed" in verdict.reason


def test_load_charges_what_no_known_process_used_to_other() -> None:
    load = load_of(drain(1, 100, busy_cores=1.0), cores=2)  # 100 s x 1 core = 100 CPU s for 10,000 items
    known = (30 + 20 + 10 + 2) * 1000 / 10_000
    assert load.ms_per_item["other"] == pytest.approx(10.0 - known)
    assert load.machine_share == pytest.approx(0.5)
    assert load.normalize_core_share == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([1.0], 50, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        (list(map(float, range(1, 101))), 99, 99.01),
    ],
)
def test_percentile(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_cpu_bound_projection_is_cores_over_the_pipelines_own_cpu_per_item() -> None:
    # drain(): per item normalize 3.0, index 2.0, Elasticsearch 1.0, Kafka 0.2 ms (10,000 items over 100 s)
    load = load_of(drain(1, 100, busy_cores=1.9), cores=2)
    assert cpu_bound_docs_per_s(load, cores=2) == pytest.approx(2000 / 6.2)
