"""One bench run, start to finish, on fresh uniquely named topics, groups and indices (removed at the end).

Order: corpus -> normalizer alone (in this process) -> Elasticsearch ceiling -> Kafka ceiling (which
fills the raw topic the end-to-end runs drain) -> end to end with 1, then 2 workers per stage ->
pinned: Elasticsearch's ceiling on one core, then end to end with Elasticsearch on that core and the
workers, Kafka and the bench on the other -> freshness at half the best end-to-end rate ->
HTML-to-text vs trafilatura. Every figure comes
from this one run, so their ratios are like for like on a shared, noisy machine.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline import kafka, search
from pipeline.bench import (
    corpus,
    e2e,
    extraction,
    extraction_eval,
    grouping,
    normalizer,
    page_fetch,
    pageset,
    pinning,
    procs,
    profiles,
    services,
)
from pipeline.bench.resources import BENCH_PARTITIONS, Scratch
from pipeline.config import Settings
from pipeline.errors import NewsflowError, ServiceError
from schemas.models import Article

Progress = Callable[[str], None]

SEED_SIZED_ITEMS = 2000
SEED_SIZED_PASSES = 3  # the machine is noisy: the median of three passes over the same items is reported
ES_TUNE_DOCS = 2000
ES_TUNE_CONFIGS = ((1, 500), (2, 500), (2, 1000))  # (threads, docs per bulk request)
CRC_SAMPLE_BYTES = 4 * 1024 * 1024
PAGE_EXTRACTORS = ("ours", "trafilatura", "rs-trafilatura", "resiliparse")


@dataclass(frozen=True)
class Options:
    articles: int = 20_000
    seed: int = 1
    freshness_s: float = 30.0
    worker_counts: tuple[int, ...] = (1, 2)
    pinned: bool = True  # the pinned end-to-end run (local stack, 2 cores or more)
    profile_dir: Path | None = None  # py-spy on the workers of the one-worker drain, files kept here


@dataclass
class Pinned:
    """Elasticsearch on `es_cpus`, the pipeline on the others: its ceiling there, and end to end."""

    es_cpus: str
    pipeline_cpus: str
    es: services.EsCeiling
    drain: e2e.Drain


@dataclass
class Result:
    options: Options
    run: str
    started_at: datetime
    cores: int
    load_average: tuple[float, float, float]
    versions: dict[str, str | None]
    settings: dict[str, object]
    corpus: dict[str, object]
    seed_sized: normalizer.Throughput  # the median pass
    seed_sized_passes: list[normalizer.Throughput]
    mixed: normalizer.Throughput
    stages_s: dict[str, float]
    profile: normalizer.Profile
    es: services.EsCeiling
    es_tuning: list[dict[str, float]]
    kafka: services.KafkaCeiling
    crc: dict[str, object]
    drains: list[e2e.Drain]
    freshness: e2e.Freshness
    extraction: extraction.Comparison
    pages: extraction_eval.Evaluation | None = None  # article extraction from full pages; None without the page set
    bulk_serialization_ms: float = 0.0  # the index worker's bulk body, CPU per document
    pinned: Pinned | None = None
    pinned_note: str | None = None  # why there is no pinned run
    pages_note: str | None = None
    fetch_pages: page_fetch.PageThroughput | None = None  # fetch and extract on loopback
    story_grouping: grouping.GroupingCost | None = None
    duration_s: float = 0.0
    cleanup_problems: list[str] = field(default_factory=list)

    @property
    def best_drain(self) -> e2e.Drain:
        return max(self.drains, key=lambda d: d.docs_per_s)


def _versions(settings: Settings, es_version: str | None) -> dict[str, str | None]:
    from pipeline.stack import kafka_broker

    def dist(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    api: str | None = None
    try:
        with kafka.admin(settings) as admin:
            broker = admin.describe_cluster()["brokers"][0]["broker_id"]
            api = str(admin.get_broker_version_data(broker)).strip("<>").removeprefix("BrokerVersionData ")
    except Exception:  # noqa: BLE001 - informational only
        api = None
    return {
        "python": platform.python_version(),
        "kafka-python": dist("kafka-python"),
        "elasticsearch-client": dist("elasticsearch"),
        "pydantic": dist("pydantic"),
        "selectolax": dist("selectolax"),
        "rjieba": dist("rjieba"),
        "py3langid": dist("py3langid"),
        "trafilatura": dist("trafilatura"),
        "elasticsearch-server": es_version,
        "kafka-server": kafka_broker.version(settings),
        "kafka-broker-api": api,
    }


def _crc(payloads: list[bytes]) -> dict[str, object]:
    """Which CRC32C kafka-python uses (it checks one on every batch it writes and reads), and its cost."""
    from kafka.record import util

    sample = b"".join(payloads)[:CRC_SAMPLE_BYTES]
    start = time.process_time()
    util.calc_crc32c(memoryview(sample))
    seconds = time.process_time() - start
    implementation = "c" if getattr(util, "crc32c_c", None) is not None else "pure-python"
    mb = len(sample) / 1e6
    return {"implementation": implementation, "cpu_s_per_mb": seconds / mb if mb else None}


def check_stack(settings: Settings) -> str:
    """The Elasticsearch version; raises ServiceError when Kafka or Elasticsearch does not answer."""
    es_version = search.ping(settings)
    if es_version is None or not kafka.ping(settings):
        raise ServiceError(
            f"the bench needs Kafka at {settings.kafka_bootstrap_servers} and Elasticsearch at {settings.es_url}: "
            "start them with `newsflow stack up`"
        )
    return es_version


def run(settings: Settings, options: Options, progress: Progress = print) -> Result:
    if options.articles < 50:
        raise NewsflowError("--articles must be at least 50")
    es_version = check_stack(settings)
    started, clock = datetime.now(UTC), time.perf_counter()
    scratch = Scratch(settings)
    logs = Path(tempfile.mkdtemp(prefix=f"{scratch.prefix}-"))
    progress(f"bench run {scratch.prefix}: {options.articles} articles, seed {options.seed}, {os.cpu_count()} cores")
    try:
        result = _measure(settings, options, scratch, logs, progress, es_version, started)
    finally:
        progress("cleaning up topics, groups and indices")
        problems = scratch.cleanup()
    shutil.rmtree(logs, ignore_errors=True)  # kept when a stage failed: its error names the worker logs
    result.cleanup_problems = problems
    result.duration_s = time.perf_counter() - clock
    return result


def _measure(
    settings: Settings,
    options: Options,
    scratch: Scratch,
    logs: Path,
    progress: Progress,
    es_version: str,
    started: datetime,
) -> Result:
    load = os.getloadavg()
    progress("1/9 corpus")
    items = corpus.generate(options.articles, options.seed)
    payloads = corpus.payloads(items)
    seed_items = corpus.generate(min(SEED_SIZED_ITEMS, options.articles), options.seed + 1, corpus.SEED_SIZED)
    now = datetime.now(UTC)

    progress("2/9 normalizer alone (this process, CPU time)")
    seed_payloads = corpus.payloads(seed_items)
    seed_runs = [normalizer.normalize_all(seed_payloads, now) for _ in range(SEED_SIZED_PASSES)]
    seed_passes = [throughput for throughput, _ in seed_runs]
    seed_sized = sorted(seed_passes, key=lambda t: t.per_s_per_core)[len(seed_passes) // 2]
    story_cost = grouping.measure(
        scratch.settings("stories"), seed_runs[0][1], seed_sized.cpu_s / max(seed_sized.items, 1) * 1e6
    )
    del seed_runs
    mixed, articles = normalizer.normalize_all(payloads, now)
    stages = normalizer.stage_split(payloads, now)
    profile = normalizer.profile(payloads, now)

    progress("3/9 Elasticsearch ceiling (bulk straight into a fresh index)")
    tuning = _tune_es(scratch, articles[:ES_TUNE_DOCS])
    best = max(tuning, key=lambda row: row["docs_per_s"])
    es = services.es_ceiling(
        scratch.settings("ceiling"), articles, threads=int(best["threads"]), chunk_docs=int(best["chunk_docs"])
    )

    progress("4/9 Kafka ceiling (produce and consume the raw messages)")
    raw_settings = scratch.settings("kafka")
    messages = [
        (item.raw.item_id.encode(), payload, kafka.headers_for(item.raw, item.raw.source.id))
        for item, payload in zip(items, payloads, strict=True)
    ]
    kafka_figures = services.kafka_ceiling(raw_settings, messages)
    del messages

    drains: list[e2e.Drain] = []
    unique = len({article.id for article in articles})
    for workers in options.worker_counts:
        progress(f"5/9 end to end, {workers} worker(s) per stage")
        stage = scratch.settings(f"e2e{workers}", raw_topic=raw_settings.topic_raw)
        drains.append(
            e2e.drain(
                stage,
                workers,
                len(items),
                unique,
                timeout_s=max(300.0, len(items) / 10),
                log_dir=logs / f"e2e{workers}",
                profile=profiles.Recorder(options.profile_dir) if options.profile_dir and workers == 1 else None,
            )
        )
    best_drain = max(drains, key=lambda d: d.docs_per_s)

    pinned: Pinned | None = None
    pinned_note: str | None = "not run (--no-pinned)"
    if options.pinned:
        progress("6/9 pinned: Elasticsearch's ceiling on one core, then end to end with the pipeline on the other")
        pinned, pinned_note = _pinned(
            settings, scratch, articles, raw_settings.topic_raw, len(items), unique, logs, es, progress
        )

    rate = max(best_drain.docs_per_s / 2, 1.0)
    progress(f"7/9 freshness: {rate:.0f} items/s for {options.freshness_s:.0f}s, {best_drain.workers} worker(s)")
    fresh_items = corpus.generate(
        int(rate * options.freshness_s) + e2e.WARMUP_ITEMS + 1,
        options.seed + 2,
        corpus.UNIQUE,
        start=corpus.START + timedelta(days=30),
    )
    fresh = e2e.freshness(
        scratch.settings("fresh"),
        best_drain.workers,
        [item.raw for item in fresh_items],
        rate,
        options.freshness_s,
        log_dir=logs / "fresh",
    )

    progress("8/9 HTML to text: ours vs trafilatura; article extraction from full pages")
    bodies = [item.raw.content_html or "" for item in items if item.kind == "original"]
    comparison = extraction.compare(bodies)
    pages, pages_note = _page_extraction()

    progress("9/9 fetch and extract article pages served on loopback")
    page_figures = page_fetch.measure(settings, [item.raw for item in items if item.kind == "original"])

    return Result(
        options=options,
        run=scratch.prefix,
        started_at=started,
        cores=os.cpu_count() or 1,
        load_average=load,
        versions=_versions(settings, es_version),
        settings=_settings_used(settings, options, rate, es),
        corpus=_corpus_summary(items, payloads),
        seed_sized=seed_sized,
        seed_sized_passes=seed_passes,
        mixed=mixed,
        stages_s=stages,
        profile=profile,
        es=es,
        es_tuning=tuning,
        kafka=kafka_figures,
        crc=_crc(payloads),
        drains=drains,
        freshness=fresh,
        extraction=comparison,
        pages=pages,
        pages_note=pages_note,
        fetch_pages=page_figures,
        bulk_serialization_ms=services.bulk_serialization_ms(articles),
        pinned=pinned,
        pinned_note=pinned_note,
        story_grouping=story_cost,
    )


def _pinned(
    settings: Settings,
    scratch: Scratch,
    articles: list[Article],
    raw_topic: str,
    items: int,
    unique: int,
    logs: Path,
    es: services.EsCeiling,
    progress: Progress,
) -> tuple[Pinned | None, str | None]:
    """Elasticsearch pinned to one core and Kafka to the other, the bench's thread with Kafka; the ceiling
    on that core, then one worker per stage on the other core. Every thread's cores are restored after."""
    cores = pinning.split_cores(pinning.available_cpus())
    if cores is None:
        return None, "one core: nothing to pin"
    groups = procs.service_groups(settings)
    if "elasticsearch" not in groups or "kafka" not in groups:
        return None, "Elasticsearch and Kafka are not the local stack's processes (Docker?): they cannot be pinned"
    es_cpus, pipeline_cpus = cores
    note = (
        f"Elasticsearch on core {pinning.cpu_list(es_cpus)}; workers, Kafka and the bench on "
        f"core(s) {pinning.cpu_list(pipeline_cpus)}"
    )
    with (
        pinning.pinned({groups["elasticsearch"]: es_cpus, groups["kafka"]: pipeline_cpus}),
        pinning.this_thread_on(pipeline_cpus),
    ):
        ceiling = services.es_ceiling(scratch.settings("core"), articles, threads=es.threads, chunk_docs=es.chunk_docs)
        progress(f"   Elasticsearch alone on its core: {ceiling.docs_per_s:.0f} docs/s; now end to end")
        drain = e2e.drain(
            scratch.settings("pinned", raw_topic=raw_topic),
            1,
            items,
            unique,
            timeout_s=max(300.0, items / 5),
            log_dir=logs / "pinned",
            cpus=pipeline_cpus,
            cpus_note=note,
        )
    return Pinned(pinning.cpu_list(es_cpus), pinning.cpu_list(pipeline_cpus), ceiling, drain), None


def _page_extraction() -> tuple[extraction_eval.Evaluation | None, str | None]:
    """`newsflow eval extraction` over the page set in this run: ours and trafilatura (and the others if installed)."""
    try:
        found = pageset.load()
    except NewsflowError as exc:
        return None, str(exc)
    return extraction_eval.evaluate(found, PAGE_EXTRACTORS, repeat=extraction_eval.DEFAULT_REPEAT), None


def _tune_es(scratch: Scratch, sample: list[Article]) -> list[dict[str, float]]:
    """A short sweep of bulk threads x request size on a sample, each into its own fresh index."""
    rows: list[dict[str, float]] = []
    for threads, chunk in ES_TUNE_CONFIGS:
        stage = scratch.settings(f"tune{threads}x{chunk}")
        figures = services.es_ceiling(stage, sample, threads=threads, chunk_docs=chunk)
        rows.append({"threads": threads, "chunk_docs": chunk, "docs_per_s": figures.docs_per_s})
    return rows


def _settings_used(settings: Settings, options: Options, rate: float, es: services.EsCeiling) -> dict[str, object]:
    return {
        "articles": options.articles,
        "seed": options.seed,
        "worker_counts": list(options.worker_counts),
        "topic_partitions": BENCH_PARTITIONS,
        "normalize_batch_size": settings.normalize_batch_size,
        "index_batch_size": settings.index_batch_size,
        "index_batch_wait_ms": settings.index_batch_wait_ms,
        "normalize_batch_wait_ms": settings.normalize_batch_wait_ms,
        "batch_min_bytes": settings.batch_min_bytes,
        "index_refresh_caught_up_ms": settings.index_refresh_caught_up_ms,
        "index_refresh_interval": "1s",
        "es_bulk_threads": es.threads,
        "es_bulk_chunk_docs": es.chunk_docs,
        "es_bulk_chunk_bytes": services.ES_CHUNK_BYTES,
        "es_ceiling_refresh_interval_during_load": "-1",
        "kafka_producer": "pipeline.kafka.producer: acks=all, idempotent, linger_ms=5, batch_size=256KiB",
        "freshness_rate_per_s": rate,
        "freshness_duration_s": options.freshness_s,
        "freshness_search_every_s": e2e.SEARCH_EVERY_S,
        "seed_sized_items": min(SEED_SIZED_ITEMS, options.articles),
        "seed_sized_chars": corpus.SEED_BODY_CHARS,
        "profile_items": normalizer.PROFILE_ITEMS,
        "stage_split_items": min(normalizer.STAGE_ITEMS, options.articles),
        "trafilatura_sample_bodies": extraction.SAMPLE_BODIES,
        "kafka_bootstrap_servers": settings.kafka_bootstrap_servers,
        "es_url": settings.es_url,
    }


def _corpus_summary(items: list[corpus.CorpusItem], payloads: list[bytes]) -> dict[str, object]:
    def shares(values: list[str]) -> dict[str, float]:
        return {v: round(values.count(v) / len(values), 4) for v in sorted(set(values))}

    return {
        "items": len(items),
        "unique_ids": len({item.raw.item_id for item in items}),
        "kinds": shares([item.kind for item in items]),
        "languages": shares([item.language for item in items]),
        "sources": shares([item.raw.source.id for item in items]),
        "mean_target_chars": round(sum(item.target_chars for item in items) / len(items)),
        "mean_message_bytes": round(sum(len(p) for p in payloads) / len(payloads)),
        "total_message_mb": round(sum(len(p) for p in payloads) / 1e6, 1),
    }
