"""Task bodies for the Airflow DAGs: plain functions, no airflow imports."""

from __future__ import annotations

import logging
from typing import Any

from pipeline import kafka
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import DryRunEmitter, Emitter, KafkaEmitter
from pipeline.errors import NewsflowError
from pipeline.logs import mask
from pipeline.poll_plan import sources_of
from pipeline.sources import manifest
from pipeline.state import StateStore

log = logging.getLogger("newsflow.poll")


def poll_task(source_id: str, *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Poll one source once; log and return its counts.

    A failed poll logs one ERROR line `poll of <id> failed: <reason>` first, so the reason tops the
    task log, then raises (failing the task).
    """
    context = {"source_id": source_id}
    try:
        settings = Settings()
        source = manifest.load(settings.sources, settings.state_dir).source(source_id)
        if not dry_run:
            kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
        emitter: Emitter = DryRunEmitter() if dry_run else KafkaEmitter(settings)
        try:
            report = poll_one(settings, source, emitter, force=force, dry_run=dry_run)
        finally:
            emitter.close()
    except Exception as exc:
        log.error("poll of %s failed: %s", source_id, failure_reason(exc), extra=context)
        raise
    log.info("%s", report.line(), extra=context)
    for error in report.errors:
        log.warning("dead-lettered: %s", error, extra=context)
    if isinstance(emitter, DryRunEmitter):
        for item in emitter.raws:
            log.info(
                "would push %s %s",
                item.item_id,
                item.title or item.url or "",
                extra={**context, "item_id": item.item_id},
            )
    return report.as_dict()


def failure_reason(exc: BaseException) -> str:
    """One line for people: our own errors say it themselves; anything else also names its type."""
    text = mask(" ".join(str(exc).split())) or type(exc).__name__
    return text if isinstance(exc, NewsflowError) else f"{type(exc).__name__}: {text}"


def select_task(schedule: str) -> list[str]:
    """Task body: the ids of the enabled sources on `schedule`, read from the sources file as it is now
    (so a source added to a schedule that already has a DAG is polled at the next run, before any re-parse)."""
    settings = Settings()
    ids = sources_of(manifest.load(settings.sources, settings.state_dir).enabled(), schedule)
    log.info("%d sources on schedule %s", len(ids), schedule)
    return ids


class AllPollsFailed(NewsflowError):
    """Every source of a run failed: something they share (Kafka, the network, the disk) is likely down."""


def summary_task(source_ids: list[str], *, show: int = 50) -> dict[str, Any]:
    """Task body: after the polls of one run, list the sources whose last poll failed, from their durable state.

    A few failing sources do not fail the run (their own task instances are red and the source-health
    metrics alert on them); a run where every source failed does.
    """
    store = StateStore(Settings().state_dir)
    failing = {}
    for source_id in source_ids:
        state = store.load(source_id)
        if state.consecutive_failures:
            failing[source_id] = (state.consecutive_failures, state.last_error or "")
    for source_id, (times, error) in list(failing.items())[:show]:
        log.warning(
            "source %s failing (%d in a row): %s", source_id, times, mask(error), extra={"source_id": source_id}
        )
    if len(failing) > show:
        log.warning("... and %d more failing sources: see `newsflow sources status`", len(failing) - show)
    log.info("%d sources polled, %d ok, %d failing", len(source_ids), len(source_ids) - len(failing), len(failing))
    if source_ids and len(failing) == len(source_ids):
        raise AllPollsFailed(f"all {len(source_ids)} polls failed; first: {next(iter(failing.values()))[1]}")
    return {"sources": len(source_ids), "failing": sorted(failing)}
