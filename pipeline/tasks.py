"""Task bodies for the Airflow DAGs: plain functions, no airflow imports."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import DryRunEmitter, Emitter, KafkaEmitter
from pipeline.sources.catalog import find_source, load_sources

log = logging.getLogger("newsflow.poll")


def poll_task(source_id: str, *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Poll one source once; log and return its counts. Raises (failing the task) if the poll fails."""
    settings = Settings()
    source = find_source(load_sources(settings.sources), source_id)
    emitter: Emitter = DryRunEmitter() if dry_run else KafkaEmitter(settings)
    try:
        report = poll_one(settings, source, emitter, force=force, dry_run=dry_run)
    finally:
        emitter.close()
    log.info("%s", report.line())
    for error in report.errors:
        log.warning("dead-lettered: %s", error)
    if isinstance(emitter, DryRunEmitter):
        for item in emitter.raws:
            log.info("would push %s %s", item.item_id, item.title or item.url or "")
    return report.as_dict()
