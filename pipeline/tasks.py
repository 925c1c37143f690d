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
from pipeline.sources.catalog import find_source, load_sources

log = logging.getLogger("newsflow.poll")


def poll_task(source_id: str, *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Poll one source once; log and return its counts.

    A failed poll logs one ERROR line `poll of <id> failed: <reason>` first, so the reason tops the
    task log, then raises (failing the task).
    """
    context = {"source_id": source_id}
    try:
        settings = Settings()
        source = find_source(load_sources(settings.sources), source_id)
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
