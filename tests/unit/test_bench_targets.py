"""The bench's steady-state figures, performance targets and picture, from tables of made-up samples."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from pipeline.bench import chart, targets
from pipeline.bench.e2e import Drain, Sample, steady_cpu, steady_rate, throughput

SVG = "{http://www.w3.org/2000/svg}"


def series(startup_cpu: float = 3.0, ms_per_item: float = 0.5, items: int = 1000, step: int = 100) -> list[Sample]:
    """A drain: the normalize workers spend `startup_cpu` before their first commit, then `ms_per_item`."""
    out = [Sample(0.25, 0, {"normalize": 0, "index": 0}, {"normalize": startup_cpu, "index": 1.0})]
    for n, done in enumerate(range(step, items + 1, step), start=2):
        cpu = startup_cpu + done * ms_per_item / 1000
        out.append(
            Sample(0.25 * n, done, {"normalize": done, "index": done}, {"normalize": cpu, "index": 1.0 + done * 1e-4})
        )
    out.append(
        Sample(out[-1].t + 0.25, items, {"normalize": items, "index": items}, {"normalize": cpu + 0.01, "index": 1.1})
    )
    return out


def test_steady_cpu_leaves_the_startup_out() -> None:
    steady = steady_cpu(series(startup_cpu=3.0, ms_per_item=0.5), "normalize", workers=1)
    assert steady is not None
    assert steady.ms_per_item == pytest.approx(0.5)
    assert steady.startup_cpu_s == pytest.approx(3.0)
    assert steady.items == 900  # from the sample at 10% to the last commit


def test_steady_startup_is_per_worker() -> None:
    steady = steady_cpu(series(startup_cpu=6.0), "normalize", workers=2)
    assert steady is not None and steady.startup_cpu_s == pytest.approx(3.0)


def test_no_steady_window_in_a_one_batch_run() -> None:
    one_batch = [
        Sample(0.25, 0, {"normalize": 0, "index": 0}, {"normalize": 2.0, "index": 1.0}),
        Sample(0.5, 300, {"normalize": 300, "index": 300}, {"normalize": 2.2, "index": 1.1}),
    ]
    assert steady_cpu(one_batch, "normalize", 1) is None
    drain = Drain(1, 300, 300, 1.0, 0.5, 300, 1.0, {"normalize": 2.2, "index": 1.1}, {}, series=one_batch)
    assert drain.cpu_ms_per_item("normalize") == pytest.approx(1000 * 2.2 / 300)  # the whole run instead
    assert drain.steady_docs_per_s == drain.docs_per_s


def test_steady_rate_scales_searchable_articles_to_items() -> None:
    samples = [Sample(float(t), 100 * t, {}, {}) for t in range(11)]  # 100 articles per second
    assert steady_rate(samples, unique=1000, items=1200) == pytest.approx(120.0)
    assert steady_rate(samples[:5], unique=1000, items=1000) == pytest.approx(100.0)  # to the end, short of 90%
    assert steady_rate(samples[:1], unique=1000, items=1000) is None


def test_the_steady_window_waits_for_every_worker() -> None:
    # Two workers per stage; the second one is past its startup only at t = 6: its imports cost 3 s of CPU
    # while the first worker handled items at 0.4 ms each.
    samples = []
    for t in range(13):
        done = 100 * t
        late = 3.0 if t >= 6 else 0.5 * t
        started = {"normalize": 2 if t >= 6 else 1, "index": 2 if t >= 6 else 1}
        cpu = {"normalize": 2.0 + done * 0.4e-3 + late, "index": 1.0 + done * 0.1e-3}
        samples.append(Sample(float(t), done, {"normalize": done, "index": done}, cpu, started))
    steady = steady_cpu(samples, "normalize", workers=2)
    assert steady is not None and steady.window_s[0] == 6.0
    assert steady.ms_per_item == pytest.approx(0.4)
    assert steady_rate(samples, unique=1200, items=1200, workers=2) == pytest.approx(100.0)
    # Without the startup signal the window would open at 10% and count the late worker's imports as items' CPU.
    blind = [Sample(s.t, s.searchable, s.committed, s.cpu_s) for s in samples]
    assert steady_cpu(blind, "normalize", workers=2).ms_per_item > 0.5  # type: ignore[union-attr]


def test_throughput_over_windows() -> None:
    samples = [Sample(0.5 * n, 50 * n, {}, {}) for n in range(9)]
    points = throughput(samples, unique=100, items=100, step_s=1.0)
    assert [t for t, _ in points] == [1.0, 2.0, 3.0, 4.0]
    assert all(rate == pytest.approx(100.0) for _, rate in points)


def drain(workers: int, per_s: float, *, es_cpu_s: float = 20.0) -> Drain:
    samples = [
        Sample(
            float(t),
            int(per_s * t),
            {"normalize": int(per_s * t), "index": int(per_s * t)},
            {"normalize": 2.0 + per_s * t * 0.4e-3, "index": 1.0 + per_s * t * 0.1e-3},
        )
        for t in range(11)
    ]
    items = int(per_s * 10)
    return Drain(
        workers,
        items,
        items,
        10.0,
        1.0,
        items,
        1.8,
        {"normalize": 6.0, "index": 2.0, "elasticsearch": es_cpu_s, "kafka": 1.0},
        {},
        series=samples,
    )


def inputs(**overrides: object) -> targets.Inputs:
    values: dict[str, object] = {
        "drains": [drain(1, 1000), drain(2, 900)],
        "transform_ms": 0.3,
        "kafka_consume_ms": 0.03,
        "kafka_produce_ms": 0.05,
        "bulk_serialization_ms": 0.004,
        "pinned": drain(1, 950),
        "es_core_docs_per_s": 1000.0,
        "freshness_p95_s": 0.9,
        "seed_sized_per_s_per_core": 2500.0,
        "trafilatura_speed_ratio": 12.0,
        "peak_rss_mb": 250.0,
    }
    values.update(overrides)
    return targets.Inputs(**values)  # type: ignore[arg-type]


def by_key(goals: list[targets.Target]) -> dict[str, targets.Target]:
    return {goal.key: goal for goal in goals}


def test_targets_from_the_one_worker_drain() -> None:
    goals = by_key(targets.compute(inputs()))
    # steady CPU per item: normalize 0.4 ms, index 0.1 ms; Kafka 1 s / 10,000 items, Elasticsearch 2 ms per item
    assert goals["pipeline_cpu_per_doc_ratio_to_es"].value == pytest.approx((0.4 + 0.1 + 0.1) / 2.0)
    assert goals["pipeline_cpu_per_doc_ratio_to_es"].met
    assert goals["normalize_worker_overhead_ratio"].value == pytest.approx(0.4 / 0.38)
    assert goals["index_worker_overhead_ms"].value == pytest.approx(0.1 - 0.004)
    assert goals["index_worker_overhead_ms"].met is True
    assert goals["e2e_pinned_ratio_to_es_core"].value == pytest.approx(0.95)
    assert goals["two_worker_speedup"].value == pytest.approx(0.9)
    assert goals["two_worker_speedup"].met is False
    assert goals["freshness_p95_s"].met and goals["peak_rss_mb"].met
    assert goals["normalizer_seed_sized_articles_per_s_per_core"].ratio == pytest.approx(1.25)


def test_missing_figures_are_not_met_or_failed() -> None:
    goals = by_key(targets.compute(inputs(pinned=None, es_core_docs_per_s=None, trafilatura_speed_ratio=None)))
    assert goals["e2e_pinned_ratio_to_es_core"].value is None
    assert goals["e2e_pinned_ratio_to_es_core"].met is None
    assert goals["trafilatura_speed_ratio"].ratio is None
    assert goals["two_worker_speedup"].value is not None


def test_a_nan_figure_is_unknown() -> None:
    goal = targets.Target("x", "x", math.nan, 1.0, "at most")
    assert goal.met is None and goal.ratio is None


@pytest.mark.parametrize(
    ("high", "ticks"),
    [(7.3, [0, 2, 4, 6, 8]), (1000, [0, 200, 400, 600, 800, 1000]), (0.42, [0, 0.1, 0.2, 0.3, 0.4, 0.5]), (0, [0, 1])],
)
def test_nice_ticks(high: float, ticks: list[float]) -> None:
    assert chart.nice_ticks(high) == pytest.approx(ticks)


def test_histogram_puts_the_tail_in_the_last_bin() -> None:
    assert chart.histogram([0.01, 0.06, 0.07, 0.5, 9.0], 0.05, limit_s=0.2) == [1, 2, 0, 2]


def test_picture_has_a_line_per_run_and_bars_for_freshness() -> None:
    data = {
        "run": "nfbenchtest",
        "cores": 2,
        "corpus": {"items": 100},
        "e2e_runs": [
            {"workers": 1, "throughput": [[1, 100], [2, 300], [3, 250]], "steady_docs_per_s": 280},
            {"workers": 2, "throughput": [[1, 90], [2, 260]], "steady_docs_per_s": 250},
        ],
        "pinned": {"available": True, "e2e": {"throughput": [[1, 50], [2, 200]], "steady_docs_per_s": 190}},
        "freshness": {"rate_per_s": 140, "histogram": {"bin_s": 0.05, "counts": [0, 3, 10, 5, 0, 1]}},
        "freshness_p50_s": 0.12,
        "freshness_p95_s": 0.2,
        "freshness_p99_s": 0.28,
    }
    root = ET.fromstring(chart.svg(data, freshness_target_s=1.0))
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}polyline")) == 3
    bars = [r for r in root.findall(f"{SVG}rect") if r.get("fill") == chart.COLOURS[0]]
    assert len(bars) == 4  # the non-empty bins
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "steady 280 docs/s" in text and "pinned" in text and "p95 0.20 s" in text and "target p95 1 s" in text


def test_picture_without_runs_still_draws() -> None:
    root = ET.fromstring(chart.svg({}))
    assert root.findall(f"{SVG}polyline") == []


def test_py_spy_frames_summed_by_self_and_inclusive_time() -> None:
    from pipeline.bench.profiles import frame_name, summarize

    raw = "\n".join(
        [
            "<module> (newsflow:6);run (/x/pipeline/workers/consume.py:132);"
            "poll (/v/lib/python3.11/site-packages/kafka/consumer/group.py:827) 30",
            "<module> (newsflow:6);run (/x/pipeline/workers/consume.py:140);"
            "to_article (/x/pipeline/transform.py:132) 60",
            "Thread._bootstrap (/usr/lib/python3.11/threading.py:1002);"
            "select (/usr/lib/python3.11/selectors.py:468) 10",
            "garbage line",
        ]
    )
    summary = summarize(raw)
    assert summary.samples == 100
    assert [(f.frame, f.self_pct) for f in summary.by_self] == [
        ("to_article (pipeline/transform.py)", 60.0),
        ("poll (kafka/consumer/group.py)", 30.0),
        ("select (selectors.py)", 10.0),
    ]
    inclusive = {f.frame: f.inclusive_pct for f in summary.by_inclusive}
    assert inclusive["run (pipeline/workers/consume.py)"] == 90.0  # two lines of one function add up
    assert frame_name("odd frame") == "odd frame"
    assert summarize("").samples == 0
