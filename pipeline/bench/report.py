"""The bench's output: a printed table with every figure and ratio, the bottleneck, and the JSON.

The bottleneck is derived from the figures of the run (see `bottleneck`), not asserted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.bench import chart, extraction_eval, profiles, targets
from pipeline.bench.e2e import Drain, Freshness, throughput
from pipeline.bench.runner import Result

TARGET_FRESHNESS_S = 1.0  # p95
TARGET_NORMALIZER_PER_S_PER_CORE = 2000.0
TARGET_RSS_MB = 300.0
TARGET_TRAFILATURA_RATIO = 10.0
FRESHNESS_BIN_S = 0.05
TARGET_GROUPING_SHARE = 0.10  # story grouping: under 10% of the normalizer's CPU per article
SATURATED = 0.85  # a share of the cores, or of one core for one process, that counts as "full"
NEAR_CEILING = 0.8  # end to end at this share of the Elasticsearch ceiling: Elasticsearch is the limit


@dataclass(frozen=True)
class Verdict:
    component: str
    reason: str


@dataclass(frozen=True)
class Load:
    """Where the CPU went during one end-to-end drain."""

    ms_per_item: dict[str, float]  # CPU ms per item: each worker kind, each service, and "other"
    machine_share: float  # busy share of all cores
    normalize_core_share: float  # average busy share of one core, per normalize worker
    index_core_share: float


PIPELINE = {  # the pipeline's own data path, in CPU ms per item
    "normalize": "normalize workers",
    "index": "index workers",
    "elasticsearch": "Elasticsearch",
    "kafka": "Kafka",
}
OUTSIDE = {  # busy CPU that is not the data path
    "airflow": "Airflow",
    "bench": "the bench",
    "other": "other processes",
}


def load_of(drain: Drain, cores: int) -> Load:
    """CPU per item of each worker kind (steady state: startup left out) and service (whole drain), the
    rest of the busy CPU as "other", and how busy the machine and each worker was."""
    items = max(drain.items, 1)
    busy_s = drain.busy_cores * drain.seconds
    per_item = {name: 1000 * seconds / items for name, seconds in drain.cpu_s.items()}
    per_item["other"] = 1000 * max(busy_s - sum(drain.cpu_s.values()), 0.0) / items
    for kind in ("normalize", "index"):
        if kind in drain.cpu_s:
            per_item[kind] = drain.cpu_ms_per_item(kind)
    per_worker_s = drain.seconds * drain.workers
    return Load(
        per_item,
        drain.busy_cores / cores,
        drain.cpu_s.get("normalize", 0.0) / per_worker_s if per_worker_s else 0.0,
        drain.cpu_s.get("index", 0.0) / per_worker_s if per_worker_s else 0.0,
    )


def cpu_bound_docs_per_s(load: Load, cores: int) -> float:
    """What the pipeline would do with every core to itself: cores over its own CPU per item (an estimate)."""
    own = sum(load.ms_per_item.get(name, 0.0) for name in PIPELINE)
    return cores * 1000 / own if own > 0 else math.nan


@dataclass(frozen=True)
class Figures:
    """What the verdict is derived from, all from one run."""

    es_ceiling: float  # docs/s
    drains: list[Drain]
    cores: int
    transform_ms: float  # CPU per item of the normalizer alone (mixed corpus)
    kafka_consume_ms: float  # kafka-python CPU per raw message read, from the Kafka ceiling
    kafka_produce_ms: float  # ... and per raw message written (acks included)
    crc_implementation: str  # kafka-python's CRC32C: "c" or "pure-python"
    crc_ms_per_item: float  # estimated worker CPU per item in that CRC


def _workers_note(f: Figures, load: Load) -> str:
    """How a normalize worker's CPU per item splits: the transform, and the Kafka client around it."""
    normalize = load.ms_per_item.get("normalize", 0.0)
    index = load.ms_per_item.get("index", 0.0)
    if normalize <= 0:
        return ""
    client = min(f.kafka_consume_ms + f.kafka_produce_ms, max(normalize - f.transform_ms, 0.0))
    note = (
        f"a normalize worker spends {normalize:.2f} ms CPU per item: {f.transform_ms:.2f} ms transforming "
        f"(the normalizer alone) and ~{client:.2f} ms in kafka-python reading the raw message and writing the "
        f"article (its CPU per message at the Kafka ceiling: read {f.kafka_consume_ms:.2f}, write "
        f"{f.kafka_produce_ms:.2f}); an index worker spends {index:.2f} ms, ~{min(f.kafka_consume_ms, index):.2f} "
        f"of it reading"
    )
    if f.crc_implementation == "pure-python":
        share = f.crc_ms_per_item / (normalize + index) if normalize + index else 0.0
        note += (
            f"; kafka-python's CRC32C is pure Python (the `crc32c` package is not installed): about "
            f"{f.crc_ms_per_item:.2f} ms per item, ~{100 * share:.0f}% of the workers' CPU"
        )
    return note


def bottleneck(f: Figures) -> Verdict:
    """Which component limits end-to-end throughput, and why, from this run's figures.

    1. the cores are (nearly) all busy -> the cores; the pipeline's biggest CPU consumer per item is
       named, and what processes outside the pipeline took is said;
    2. end to end is close to the Elasticsearch ceiling with cores to spare -> Elasticsearch;
    3. a worker process keeps its core busy -> that worker (one Python process runs on one core);
    4. nothing is saturated -> the workers wait on round trips (polls, acks, bulk requests, refresh).
    """
    best = max(f.drains, key=lambda d: d.docs_per_s)
    load = load_of(best, f.cores)
    own = {label: load.ms_per_item.get(name, 0.0) for name, label in PIPELINE.items()}
    outside = sum(load.ms_per_item.get(name, 0.0) for name in OUTSIDE)
    busy = sum(load.ms_per_item.values()) or 1.0
    top = max(own, key=lambda k: own[k])
    per_item = ", ".join(f"{label} {ms:.2f}" for label, ms in own.items())
    scaling = ""
    if len(f.drains) > 1:
        fewest = min(f.drains, key=lambda d: d.workers)
        most = max(f.drains, key=lambda d: d.workers)
        gain = most.docs_per_s / fewest.docs_per_s if fewest.docs_per_s else math.nan
        scaling = f"; {most.workers} vs {fewest.workers} worker(s) per stage: x{gain:.2f}"
    notes = _workers_note(f, load)
    notes = f". {notes[0].upper()}{notes[1:]}" if notes else ""
    if load.machine_share >= SATURATED:
        others = ", ".join(f"{name} {cpu:.0f} s" for name, cpu in best.others) or "none seen"
        alone = cpu_bound_docs_per_s(load, f.cores)
        return Verdict(
            "cores",
            f"the {f.cores} cores were {100 * load.machine_share:.0f}% busy in the best end-to-end run "
            f"({best.workers} worker(s) per stage), {100 * outside / busy:.0f}% of that outside the pipeline "
            f"(Airflow, the bench, other processes; the busiest still running: {others}); CPU ms per item of the "
            f"pipeline: {per_item}; the most: {top}; with the cores to itself the pipeline would do about "
            f"{alone:.0f} docs/s ({alone / f.es_ceiling if f.es_ceiling else math.nan:.2f}x the Elasticsearch "
            f"ceiling){scaling}{notes}",
        )
    ratio = best.docs_per_s / f.es_ceiling if f.es_ceiling else 0.0
    if ratio >= NEAR_CEILING:
        return Verdict(
            "elasticsearch",
            f"end to end reaches {100 * ratio:.0f}% of the Elasticsearch bulk ceiling with cores to spare "
            f"({100 * load.machine_share:.0f}% busy){scaling}",
        )
    if load.normalize_core_share >= SATURATED:
        return Verdict(
            "normalizer",
            f"each normalize worker kept its core {100 * load.normalize_core_share:.0f}% busy while the machine "
            f"was {100 * load.machine_share:.0f}% busy{scaling}{notes}",
        )
    if load.index_core_share >= SATURATED:
        return Verdict(
            "index worker",
            f"each index worker kept its core {100 * load.index_core_share:.0f}% busy while the machine was "
            f"{100 * load.machine_share:.0f}% busy{scaling}{notes}",
        )
    return Verdict(
        "waiting",
        f"neither the machine ({100 * load.machine_share:.0f}% busy) nor a worker (normalize "
        f"{100 * load.normalize_core_share:.0f}%, index {100 * load.index_core_share:.0f}% of a core) is "
        f"saturated: the workers wait on round trips (polls, acks, bulk requests, refresh){scaling}{notes}",
    )


def crc_ms_per_item(result: Result) -> float:
    """Estimated worker CPU per item in kafka-python's CRC32C: raw read, article written and read back."""
    per_mb = result.crc.get("cpu_s_per_mb")
    if not isinstance(per_mb, float):
        return 0.0
    raw_mb = result.kafka.bytes / max(result.kafka.messages, 1) / 1e6
    return 1000 * per_mb * raw_mb * 3  # an article message is about the size of its raw item


def verdict(result: Result) -> Verdict:
    return bottleneck(
        Figures(
            es_ceiling=result.es.docs_per_s,
            drains=result.drains,
            cores=result.cores,
            transform_ms=1000 / result.mixed.per_s_per_core if result.mixed.per_s_per_core else 0.0,
            kafka_consume_ms=result.kafka.consume_cpu_ms,
            kafka_produce_ms=result.kafka.produce_cpu_ms,
            crc_implementation=str(result.crc.get("implementation")),
            crc_ms_per_item=crc_ms_per_item(result),
        )
    )


def _finite(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


def _ratio(value: float | None, target: float) -> float | None:
    return _finite(value / target) if value is not None and target else None


def _fetch_pages(result: Result) -> dict[str, Any] | None:
    figures = result.fetch_pages
    if figures is None:
        return None
    return {
        "pages": figures.pages,
        "threads": figures.threads,
        "pages_per_s": _finite(figures.per_s),
        "cpu_ms_per_page": _finite(1000 * figures.cpu_s / figures.pages) if figures.pages else None,
        "wall_s": _finite(figures.wall_s),
        "failed": figures.failed,
        "mean_article_html_chars": _finite(figures.mean_chars),
    }


def to_json(result: Result) -> dict[str, Any]:
    best = result.best_drain
    fresh = result.freshness
    p50, p95, p99 = (fresh.percentile(p) for p in (50, 95, 99))
    rss = {
        kind: _finite(max([d.peak_rss_kb[kind] for d in result.drains] + [fresh.peak_rss_kb.get(kind, 0)]) / 1024)
        for kind in ("normalize", "index")
    }
    total_stage = sum(result.stages_s.values()) or 1.0
    found = verdict(result)
    kafka_min = min(result.kafka.produce_msgs_per_s, result.kafka.consume_msgs_per_s)
    comparison = result.extraction
    goals = performance_targets(result)
    return {
        "run": result.run,
        "started_at": result.started_at.isoformat(),
        "duration_s": _finite(result.duration_s),
        "cores": result.cores,
        "load_average_at_start": list(result.load_average),
        "versions": result.versions,
        "settings": result.settings,
        "corpus": result.corpus,
        "es_ceiling_docs_per_s": _finite(result.es.docs_per_s),
        "es_ceiling": {
            "docs": result.es.docs,
            "ok": result.es.ok,
            "failed": result.es.failed,
            "count": result.es.count,
            "load_s": _finite(result.es.load_s),
            "searchable_s": _finite(result.es.searchable_s),
            "load_docs_per_s": _finite(result.es.load_docs_per_s),
            "threads": result.es.threads,
            "chunk_docs": result.es.chunk_docs,
            "tuning": result.es_tuning,
        },
        "kafka_ceiling_msgs_per_s": _finite(kafka_min),
        "kafka_ceiling": {
            "messages": result.kafka.messages,
            "bytes": result.kafka.bytes,
            "produce_msgs_per_s": _finite(result.kafka.produce_msgs_per_s),
            "produce_mb_per_s": _finite(result.kafka.produce_mb_per_s),
            "consume_msgs_per_s": _finite(result.kafka.consume_msgs_per_s),
            "consume_mb_per_s": _finite(result.kafka.consume_mb_per_s),
            "produce_cpu_ms_per_msg": _finite(result.kafka.produce_cpu_ms),
            "consume_cpu_ms_per_msg": _finite(result.kafka.consume_cpu_ms),
            "crc32c": result.crc,
        },
        "normalizer_articles_per_s_per_core": _finite(result.mixed.per_s_per_core),
        "normalizer": {
            "mixed": _throughput(result.mixed),
            "seed_sized": _throughput(result.seed_sized),
            "seed_sized_passes_per_s_per_core": [_finite(t.per_s_per_core) for t in result.seed_sized_passes],
            "stage_share": {name: _finite(s / total_stage) for name, s in result.stages_s.items()},
            "stage_cpu_s": {name: _finite(s) for name, s in result.stages_s.items()},
            "profile_items": result.profile.items,
            "hot_spots_self": [spot.__dict__ for spot in result.profile.self_time],
            "hot_spots_cumulative": [spot.__dict__ for spot in result.profile.ours_cumulative],
        },
        "e2e_docs_per_s": _finite(best.docs_per_s),
        "e2e_cpu_bound_projection_docs_per_s": _finite(cpu_bound_docs_per_s(load_of(best, result.cores), result.cores)),
        "e2e_best_workers": best.workers,
        "e2e_docs_per_s_by_workers": {str(d.workers): _finite(d.docs_per_s) for d in result.drains},
        "e2e_steady_docs_per_s_by_workers": {str(d.workers): _finite(d.steady_docs_per_s) for d in result.drains},
        "e2e_runs": [_drain(d, result.cores) for d in result.drains],
        **{goal.key: _finite(goal.value) for goal in goals},
        "performance_targets": [_target(goal) for goal in goals],
        "pinned": _pinned(result),
        "worker_profiles": _profiles(result),
        "index_worker": {
            "bulk_serialization_ms_per_doc": _finite(result.bulk_serialization_ms),
            "bulk_serialization": "search.bulk_body over the article messages, 500 per request, in the bench process",
        },
        "freshness_p50_s": _finite(p50),
        "freshness_p95_s": _finite(p95),
        "freshness_p99_s": _finite(p99),
        "freshness": {
            "workers": fresh.workers,
            "rate_per_s": _finite(fresh.rate_per_s),
            "duration_s": fresh.duration_s,
            "sent": fresh.sent,
            "found": len(fresh.latencies_s),
            "missing": fresh.missing,
            "max_s": _finite(max(fresh.latencies_s, default=math.nan)),
            "busy_cores": _finite(fresh.busy_cores),
            "rss_after_warm_up_mb": {k: _finite(v / 1024) for k, v in fresh.warm_rss_kb.items()},
            "histogram": _histogram(fresh),
        },
        "peak_rss_mb": rss,
        "trafilatura_speed_ratio": _finite(comparison.speed_ratio) if comparison.speed_ratio is not None else None,
        "fetch_extract_pages_per_s_per_core": (
            _finite(result.fetch_pages.per_s_per_core) if result.fetch_pages else None
        ),
        "fetch_extract": _fetch_pages(result),
        "trafilatura": {
            "available": comparison.available,
            "version": comparison.version,
            "bodies": comparison.bodies,
            "ours_ms_per_body": _finite(comparison.ours_ms),
            "trafilatura_ms_per_body": _finite(comparison.theirs_ms),
            "empty_results": comparison.empty,
            "agreement_bigram_jaccard": _finite(comparison.bigram_jaccard),
            "agreement_difflib_ratio": _finite(comparison.difflib_ratio),
            "note": comparison.note,
        },
        **_page_extraction(result),
        "story_grouping_us_per_article": _finite(result.story_grouping.us_per_article)
        if result.story_grouping
        else None,
        "story_grouping": _story_grouping(result),
        "targets": {
            "story_grouping_share_of_normalizer": TARGET_GROUPING_SHARE,
            "freshness_s": TARGET_FRESHNESS_S,
            "normalizer_per_s_per_core": TARGET_NORMALIZER_PER_S_PER_CORE,
            "peak_rss_mb": TARGET_RSS_MB,
            "trafilatura_speed_ratio": TARGET_TRAFILATURA_RATIO,
        },
        "ratios": {
            "e2e_vs_es_ceiling": _ratio(best.docs_per_s, result.es.docs_per_s),
            "e2e_vs_kafka_ceiling": _ratio(best.docs_per_s, kafka_min),
            "freshness_p50_vs_target": _ratio(p50, TARGET_FRESHNESS_S),
            "freshness_p95_vs_target": _ratio(p95, TARGET_FRESHNESS_S),
            "freshness_p99_vs_target": _ratio(p99, TARGET_FRESHNESS_S),
            "normalizer_vs_target": _ratio(result.mixed.per_s_per_core, TARGET_NORMALIZER_PER_S_PER_CORE),
            "normalizer_seed_sized_vs_target": _ratio(
                result.seed_sized.per_s_per_core, TARGET_NORMALIZER_PER_S_PER_CORE
            ),
            "peak_rss_vs_target": {kind: _ratio(mb, TARGET_RSS_MB) for kind, mb in rss.items()},
            "trafilatura_vs_target": _ratio(comparison.speed_ratio, TARGET_TRAFILATURA_RATIO),
        },
        "bottleneck": {"component": found.component, "reason": found.reason},
        "cleanup_problems": result.cleanup_problems,
    }


def performance_targets(result: Result) -> list[targets.Target]:
    fresh_p95 = result.freshness.percentile(95)
    rss = [
        max([d.peak_rss_kb.get(kind, 0) for d in result.drains] + [result.freshness.peak_rss_kb.get(kind, 0)]) / 1024
        for kind in ("normalize", "index")
    ]
    return targets.compute(
        targets.Inputs(
            drains=result.drains,
            transform_ms=1000 / result.mixed.per_s_per_core if result.mixed.per_s_per_core else math.nan,
            kafka_consume_ms=result.kafka.consume_cpu_ms,
            kafka_produce_ms=result.kafka.produce_cpu_ms,
            bulk_serialization_ms=result.bulk_serialization_ms,
            pinned=result.pinned.drain if result.pinned else None,
            es_core_docs_per_s=result.pinned.es.docs_per_s if result.pinned else None,
            freshness_p95_s=None if math.isnan(fresh_p95) else fresh_p95,
            seed_sized_per_s_per_core=result.seed_sized.per_s_per_core,
            trafilatura_speed_ratio=result.extraction.speed_ratio,
            peak_rss_mb=max(rss) if any(rss) else None,
        )
    )


def _target(goal: targets.Target) -> dict[str, Any]:
    return {
        "key": goal.key,
        "figure": goal.label,
        "value": _finite(goal.value),
        "target": goal.target,
        "sense": goal.sense,
        "unit": goal.unit,
        "ratio_to_target": _finite(goal.ratio),
        "met": goal.met,
        "note": goal.note,
    }


def _pinned(result: Result) -> dict[str, Any]:
    pinned = result.pinned
    if pinned is None:
        return {"available": False, "note": result.pinned_note}
    return {
        "available": True,
        "es_cpus": pinned.es_cpus,
        "pipeline_cpus": pinned.pipeline_cpus,
        "es_core_ceiling_docs_per_s": _finite(pinned.es.docs_per_s),
        "es_core_ceiling": {
            "docs": pinned.es.docs,
            "load_s": _finite(pinned.es.load_s),
            "searchable_s": _finite(pinned.es.searchable_s),
            "threads": pinned.es.threads,
            "chunk_docs": pinned.es.chunk_docs,
        },
        "e2e": _drain(pinned.drain, result.cores),
    }


def _profiles(result: Result) -> dict[str, Any]:
    """py-spy's top frames of the one-worker drain's workers (`--profile-workers`), when recorded."""
    drain = targets.reference_drain(result.drains)
    if drain is None or not (drain.profiles or drain.profile_note):
        return {"available": False}
    return {
        "available": bool(drain.profiles),
        "note": drain.profile_note,
        "sample_rate_per_s": profiles.SAMPLE_RATE,
        **{
            kind: {
                "samples": summary.samples,
                "by_self": [frame.__dict__ for frame in summary.by_self],
                "by_inclusive": [frame.__dict__ for frame in summary.by_inclusive],
            }
            for kind, summary in drain.profiles.items()
        },
    }


def _histogram(fresh: Freshness) -> dict[str, Any]:
    limit = max(2.0, 2 * TARGET_FRESHNESS_S, min(max(fresh.latencies_s, default=0.0), 10.0))
    return {
        "bin_s": FRESHNESS_BIN_S,
        "counts": chart.histogram(fresh.latencies_s, FRESHNESS_BIN_S, limit_s=limit),
        "last_bin_holds_all_from_s": round(limit - FRESHNESS_BIN_S, 3),
    }


def _page_extraction(result: Result) -> dict[str, Any]:
    """Article extraction from full pages (`newsflow eval extraction` in this run): headline keys and the detail."""
    evaluation = result.pages
    empty: dict[str, Any] = {
        "extract_pages_per_s_per_core": None,
        "extract_f1": None,
        "extract_trafilatura_f1": None,
        "extract_trafilatura_speed_ratio": None,
    }
    if evaluation is None:
        return {**empty, "extraction_pages": {"available": False, "note": result.pages_note}}
    ours, theirs = evaluation.of("ours"), evaluation.of(extraction_eval.BASELINE)
    mine = ours.summary() if ours else None
    other = theirs.summary() if theirs else None
    detail = extraction_eval.to_json(evaluation)
    return {
        "extract_pages_per_s_per_core": _finite(mine.pages_per_s_per_core) if mine else None,
        "extract_f1": _finite(mine.f1) if mine else None,
        "extract_trafilatura_f1": _finite(other.f1) if other else None,
        "extract_trafilatura_speed_ratio": _finite(other.cpu_ms_per_page / mine.cpu_ms_per_page)
        if mine and other and mine.cpu_ms_per_page
        else None,
        "extraction_pages": {"available": True, **detail},
    }


def _story_grouping(result: Result) -> dict[str, Any] | None:
    cost = result.story_grouping
    if cost is None:
        return None
    return {
        "articles": cost.articles,
        "fingerprint_us_per_article": _finite(cost.fingerprint_us),
        "decisions_us_per_article": _finite(cost.decisions_us),
        "normalizer_us_per_article": _finite(cost.normalizer_us),
        "share_of_normalizer": _finite(cost.share_of_normalizer),
        "datasketch_minhash128_us_per_article": _finite(cost.datasketch_us) if cost.datasketch_us else None,
        "datasketch_version": cost.datasketch_version,
        "store_batches": cost.store_batches,
        "store_batch_size": cost.store_batch_size,
        "store_ms_per_batch": _finite(cost.store_ms_per_batch) if cost.store_ms_per_batch is not None else None,
        "store_requests_per_batch": cost.store_requests_per_batch,
        "assign_cpu_us_per_article": _finite(cost.store_cpu_us) if cost.store_cpu_us is not None else None,
    }


def _throughput(t: Any) -> dict[str, Any]:
    return {
        "items": t.items,
        "dead": t.dead,
        "cpu_s": _finite(t.cpu_s),
        "wall_s": _finite(t.wall_s),
        "per_s_per_core": _finite(t.per_s_per_core),
    }


def _drain(d: Drain, cores: int) -> dict[str, Any]:
    load = load_of(d, cores)
    steady = {kind: d.steady(kind) for kind in ("normalize", "index")}
    return {
        "workers": d.workers,
        "cpus": d.cpus,
        "steady_docs_per_s": _finite(d.steady_docs_per_s),
        "steady_cpu_ms_per_item": {k: _finite(v.ms_per_item) if v else None for k, v in steady.items()},
        "startup_cpu_s_per_worker": {k: _finite(v.startup_cpu_s) if v else None for k, v in steady.items()},
        "steady_window_s": {k: list(v.window_s) if v else None for k, v in steady.items()},
        "throughput": [list(point) for point in throughput(d.series, d.unique, d.items)],
        "items": d.items,
        "unique": d.unique,
        "count": d.count,
        "seconds": _finite(d.seconds),
        "first_searchable_s": _finite(d.first_searchable_s),
        "docs_per_s": _finite(d.docs_per_s),
        "cpu_bound_projection_docs_per_s": _finite(cpu_bound_docs_per_s(load, cores)),
        "busy_cores": _finite(d.busy_cores),
        "worker_cpu_s": {k: _finite(v) for k, v in d.cpu_s.items()},
        "cpu_ms_per_item": {name: _finite(ms) for name, ms in load.ms_per_item.items()},
        "peak_rss_mb": {k: _finite(v / 1024) for k, v in d.peak_rss_kb.items()},
        "busiest_other_processes": [{"process": name, "cpu_s": _finite(cpu)} for name, cpu in d.others],
    }


def write_json(result: Result, path: Path) -> Path:
    """Write the JSON to `path` and the picture beside it (same name, `.svg`); the picture's path."""
    data = to_json(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    picture = path.with_suffix(".svg")
    picture.write_text(chart.svg(data, freshness_target_s=TARGET_FRESHNESS_S), encoding="utf-8")
    return picture


# --- the printed table ----------------------------------------------------------------------------


def _n(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _x(value: float | None, what: str) -> str:
    return "" if value is None else f"{value:.2f}x {what}"


def _targets_table(goals: list[dict[str, Any]]) -> list[str]:
    """The performance targets, one line each: figure, value, target, ratio, met, and how it was made."""
    lines = ["Targets (each a figure of this run):"]
    width = max(len(g["figure"]) for g in goals) + 2
    for g in goals:
        digits = 0 if g["unit"] in ("/s", "MB") else 2
        value = "n/a" if g["value"] is None else f"{_n(g['value'], digits)} {g['unit']}".strip()
        sign = "<=" if g["sense"] == "at most" else ">="
        verdict = {True: "met", False: "NOT met", None: "n/a"}[g["met"]]
        ratio = "" if g["ratio_to_target"] is None else f"{g['ratio_to_target']:.2f} of target"
        lines.append(
            f"  {g['figure']:<{width}}{value:>12}  {sign} {_n(g['target'], 2 if g['target'] < 10 else 0)}"
            f"  {ratio:>16}  {verdict:<7}  {g['note']}".rstrip()
        )
    return lines


def table(result: Result) -> str:
    data = to_json(result)
    ratios = data["ratios"]
    rows: list[tuple[str, str, str]] = []

    def row(name: str, value: str, note: str = "") -> None:
        rows.append((name, value, note))

    es, kafka_c, norm = data["es_ceiling"], data["kafka_ceiling"], data["normalizer"]
    row(
        f"Elasticsearch ceiling (bulk, {es['threads']} threads x {es['chunk_docs']} docs)",
        f"{_n(data['es_ceiling_docs_per_s'])} docs/s",
        f"until searchable; load alone (refresh off) {_n(es['load_docs_per_s'])} docs/s",
    )
    row(
        "Kafka produce (kafka-python, acks=all)",
        f"{_n(kafka_c['produce_msgs_per_s'])} msgs/s",
        f"{_n(kafka_c['produce_mb_per_s'], 1)} MB/s; client CPU {_n(kafka_c['produce_cpu_ms_per_msg'], 2)} ms/msg; "
        f"CRC32C: {kafka_c['crc32c']['implementation']}",
    )
    row(
        "Kafka consume (kafka-python)",
        f"{_n(kafka_c['consume_msgs_per_s'])} msgs/s",
        f"{_n(kafka_c['consume_mb_per_s'], 1)} MB/s; client CPU {_n(kafka_c['consume_cpu_ms_per_msg'], 2)} ms/msg",
    )
    passes = norm["seed_sized_passes_per_s_per_core"]
    row(
        f"Normalizer, seed-sized (~{result.settings['seed_sized_chars']} chars)",
        f"{_n(norm['seed_sized']['per_s_per_core'])} /s/core",
        _x(ratios["normalizer_seed_sized_vs_target"], "of the 2,000/s/core target")
        + f"; median of {len(passes)} passes, {_n(min(passes))}-{_n(max(passes))}",
    )
    row(
        "Normalizer, mixed corpus",
        f"{_n(norm['mixed']['per_s_per_core'])} /s/core",
        _x(ratios["normalizer_vs_target"], "of the 2,000/s/core target"),
    )
    for name, share in norm["stage_share"].items():
        row(f"  {name}", f"{_n(100 * share, 1)} %", "of normalizer CPU")
    stories = data["story_grouping"]
    if stories:
        other = stories["datasketch_minhash128_us_per_article"]
        row(
            "Story grouping in the normalizer (seed-sized)",
            f"{_n(data['story_grouping_us_per_article'], 1)} us/article",
            f"{_n(100 * (stories['share_of_normalizer'] or math.nan), 1)} % of the normalizer (target under "
            f"{100 * TARGET_GROUPING_SHARE:.0f} %); fingerprint {_n(stories['fingerprint_us_per_article'], 1)} us, "
            f"decisions {_n(stories['decisions_us_per_article'], 1)} us"
            + (f"; datasketch MinHash(128) {_n(other, 1)} us" if other else ""),
        )
        row(
            "  its shared state (Elasticsearch)",
            f"{_n(stories['store_ms_per_batch'])} ms/batch",
            f"{_n(stories['store_requests_per_batch'], 1)} requests per batch of {stories['store_batch_size']} "
            f"(every article new: the most expensive case); the whole assignment "
            f"{_n(stories['assign_cpu_us_per_article'], 1)} us CPU/article here",
        )
    for run in data["e2e_runs"]:
        row(
            f"End to end, {run['workers']} worker(s) per stage",
            f"{_n(run['docs_per_s'])} docs/s",
            f"{_x(_ratio(run['docs_per_s'], data['es_ceiling_docs_per_s']), 'of ES ceiling')}; "
            f"steady {_n(run['steady_docs_per_s'])} docs/s; CPU ms per item: normalize "
            f"{_n(run['steady_cpu_ms_per_item']['normalize'], 3)}, "
            f"index {_n(run['steady_cpu_ms_per_item']['index'], 3)}"
            f" (startup {_n(run['startup_cpu_s_per_worker']['normalize'], 1)} s / "
            f"{_n(run['startup_cpu_s_per_worker']['index'], 1)} s CPU per worker); "
            f"first searchable {_n(run['first_searchable_s'], 1)} s; {_n(run['busy_cores'], 2)} cores busy; "
            f"~{_n(run['cpu_bound_projection_docs_per_s'])} docs/s with the cores to itself",
        )
    pinned = data["pinned"]
    if pinned["available"]:
        run = pinned["e2e"]
        row(
            f"Elasticsearch ceiling on core {pinned['es_cpus']} alone",
            f"{_n(pinned['es_core_ceiling_docs_per_s'])} docs/s",
            "the bench's loader on the other core",
        )
        row(
            "End to end pinned, 1 worker per stage",
            f"{_n(run['docs_per_s'])} docs/s",
            f"steady {_n(run['steady_docs_per_s'])} docs/s; {run['cpus']}",
        )
    else:
        row("End to end pinned", "n/a", pinned["note"] or "")
    fresh = data["freshness"]
    row(
        f"Freshness p50 ({_n(fresh['rate_per_s'])}/s, {fresh['workers']} worker(s), {_n(fresh['duration_s'])} s)",
        f"{_n(data['freshness_p50_s'], 2)} s",
        _x(ratios["freshness_p50_vs_target"], f"of the {TARGET_FRESHNESS_S:g} s target"),
    )
    row(
        "Freshness p95",
        f"{_n(data['freshness_p95_s'], 2)} s",
        _x(ratios["freshness_p95_vs_target"], f"of {TARGET_FRESHNESS_S:g} s"),
    )
    row(
        "Freshness p99",
        f"{_n(data['freshness_p99_s'], 2)} s",
        _x(ratios["freshness_p99_vs_target"], f"of {TARGET_FRESHNESS_S:g} s")
        + f"; {fresh['found']}/{fresh['sent']} found",
    )
    for kind, mb in data["peak_rss_mb"].items():
        row(
            f"Peak RSS, {kind} worker",
            f"{_n(mb)} MB",
            _x(ratios["peak_rss_vs_target"][kind], "of the 300 MB target")
            + f"; {_n(fresh['rss_after_warm_up_mb'].get(kind))} MB once warmed up, before load",
        )
    traf = data["trafilatura"]
    if traf["available"]:
        row(
            "HTML to text: trafilatura time / ours",
            f"{_n(data['trafilatura_speed_ratio'], 1)}x",
            f"{_x(ratios['trafilatura_vs_target'], f'of the {TARGET_TRAFILATURA_RATIO:g}x target')}; agreement: bigram "
            f"Jaccard "
            f"{_n(traf['agreement_bigram_jaccard'], 3)}, difflib {_n(traf['agreement_difflib_ratio'], 3)} "
            f"({traf['bodies']} bodies)",
        )
    else:
        row("HTML to text: trafilatura time / ours", "null", traf["note"] or "trafilatura unavailable")
    fetched = data["fetch_extract"]
    if fetched:
        row(
            "Fetch and extract pages (loopback)",
            f"{_n(data['fetch_extract_pages_per_s_per_core'])} /s/core",
            f"{_n(fetched['pages_per_s'])} pages/s on {fetched['threads']} threads; "
            f"{_n(fetched['cpu_ms_per_page'], 2)} ms CPU per page; {fetched['pages']} pages, {fetched['failed']} empty",
        )

    pages = data["extraction_pages"]
    if pages["available"]:
        ours = pages["extractors"]["ours"]["summary"]["all"]
        row(
            f"Article extraction, {ours['pages']} pages: F1",
            f"{_n(data['extract_f1'], 3)}",
            f"P {_n(ours['precision'], 3)}, R {_n(ours['recall'], 3)}, lowest page {_n(ours['min_page_f1'], 3)}; "
            f"held-out pages {_n((pages['extractors']['ours']['summary'].get('split held-out') or {}).get('f1'), 3)}; "
            f"trafilatura {_n(data['extract_trafilatura_f1'], 3)}",
        )
        row(
            "Article extraction: pages/s per core",
            f"{_n(data['extract_pages_per_s_per_core'])} /s",
            f"{_n(ours['cpu_ms_per_page'], 2)} ms CPU per page; trafilatura takes "
            f"{_n(data['extract_trafilatura_speed_ratio'], 1)}x as long",
        )
    else:
        row("Article extraction", "null", pages["note"] or "no page set")

    width = max(len(r[0]) for r in rows) + 2
    value_width = max(len(r[1]) for r in rows) + 2
    head = (
        f"newsflow bench {data['run']}: {result.options.articles:,} articles (seed {result.options.seed}), "
        f"{data['cores']} cores, load average at start {' '.join(f'{v:.2f}' for v in data['load_average_at_start'])}"
    )
    lines = [head, "", *_targets_table(data["performance_targets"]), ""]
    lines += [f"{'figure':<{width}}{'value':>{value_width}}  target / ratio / notes"]
    lines += [f"{name:<{width}}{value:>{value_width}}  {note}" for name, value, note in rows]
    lines += ["", f"Bottleneck: {data['bottleneck']['component']}: {data['bottleneck']['reason']}"]
    lines += ["", f"Normalizer hot spots (cProfile over {norm['profile_items']} mixed items; % of profiled time):"]
    lines += ["   self%   cum%    calls  function"]
    lines += [
        f"  {s['self_pct']:6.1f} {s['cumulative_pct']:6.1f} {s['calls']:8d}  {s['function']}"
        for s in norm["hot_spots_self"]
    ]
    lines += ["  our functions by cumulative time:"]
    lines += [
        f"  {s['self_pct']:6.1f} {s['cumulative_pct']:6.1f} {s['calls']:8d}  {s['function']}"
        for s in norm["hot_spots_cumulative"]
    ]
    for kind in ("normalize", "index"):
        found = data["worker_profiles"].get(kind)
        if found:
            lines += ["", f"py-spy, {kind} worker after its first batch ({found['samples']} samples; % of samples):"]
            lines += ["   self%  incl%  frame"]
            lines += [f"  {f['self_pct']:6.1f} {f['inclusive_pct']:6.1f}  {f['frame']}" for f in found["by_self"][:10]]
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items() if v)
    lines += ["", f"versions: {versions}", f"bench took {_n(data['duration_s'])} s"]
    if data["cleanup_problems"]:
        lines += [f"cleanup problem: {p}" for p in data["cleanup_problems"]]
    return "\n".join(lines)
