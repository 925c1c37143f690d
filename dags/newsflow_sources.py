"""One `poll__<source_id>` DAG per enabled source in the sources file.

Kept light at parse time: it reads the small sources file and nothing else; Kafka, HTTP and
parsing are imported inside the task body only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from pipeline.config import Settings
from pipeline.sources.catalog import SourceConfig, load_sources

DEFAULT_ARGS = {
    "owner": "newsflow",
    "retries": 4,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


def _doc(source: SourceConfig) -> str:
    return (
        f"### Polls `{source.id}`\n\n"
        f"- **what**: {source.type.value} at `{source.location}`\n"
        f"- **outlet**: {source.outlet or 'each item’s own'}\n"
        f"- **category**: `{source.category or 'each item’s own'}`\n"
        f"- **default tags**: {', '.join(source.tags) or '-'}\n"
        f"- **schedule**: `{source.schedule}`\n\n"
        "Each run fetches the source once and pushes new or changed items to the raw topic. "
        "Trigger with `force=true` to re-push everything the source lists (backfill), "
        "or `dry_run=true` to fetch and parse without pushing."
    )


def _schedule(source: SourceConfig) -> str | timedelta:
    seconds = source.interval_seconds
    return timedelta(seconds=seconds) if seconds else source.schedule


def build_dag(source: SourceConfig) -> Any:
    @dag(
        dag_id=f"poll__{source.id}",
        description=f"Poll {source.outlet or source.id} ({source.type.value})",
        schedule=_schedule(source),
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=[tag for tag in ("newsflow", source.outlet, source.category) if tag],
        doc_md=_doc(source),
        default_args=DEFAULT_ARGS,
        params={
            "force": Param(False, type="boolean", description="Re-push everything the source lists."),
            "dry_run": Param(False, type="boolean", description="Fetch and parse; push nothing."),
        },
    )
    def poll_source_dag() -> None:
        @task(task_id="poll")
        def poll(source_id: str = source.id, **context: Any) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowFailException

            from pipeline.errors import ConfigError, PermanentError
            from pipeline.tasks import failure_reason, poll_task

            params = context.get("params") or {}
            try:
                return poll_task(source_id, force=bool(params.get("force")), dry_run=bool(params.get("dry_run")))
            except (PermanentError, ConfigError) as exc:  # a malformed feed or a 404 is not fixed by retrying now
                raise AirflowFailException(failure_reason(exc)) from exc

        poll()

    return poll_source_dag()


for _source in load_sources(Settings().sources):
    if _source.enabled:
        globals()[f"poll__{_source.id}"] = build_dag(_source)
