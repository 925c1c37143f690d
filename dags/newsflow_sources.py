"""The poll DAGs: one `poll__<schedule>` DAG per schedule in the sources file, and `poll_source` to poll one source.

A `poll__<schedule>` run reads which enabled sources have that schedule when it starts (`sources`), polls
each in its own mapped task instance labelled with the source id (`poll`, retried on its own), then lists
the failing ones (`summary`). `poll_source` polls the source chosen in its Trigger form, on demand.

Light at parse time whatever the number of sources: the validated sources come from a manifest cached
by the sources file's hash (`pipeline.sources.manifest`), and only the schedules and ids are looped over;
Kafka, HTTP and parsing are imported inside task bodies only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from pipeline.config import Settings
from pipeline.poll_plan import ONE_SOURCE_DAG, ScheduleGroup, interval_seconds, plan
from pipeline.sources import manifest
from pipeline.sources.catalog import SourceConfig

START = datetime(2024, 1, 1, tzinfo=UTC)
# A run polls all the sources of a schedule: retries stay short so that a failing source cannot hold its
# run (and so the next poll of every other source of that schedule) for long; the next run tries it again.
GROUP_ARGS = {
    "owner": "newsflow",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
}
ONE_SOURCE_ARGS = {**GROUP_ARGS, "retries": 0}  # someone is watching: show the failure at once
DOC_SOURCES_SHOWN = 100


def _poll(source_id: str, params: dict[str, Any]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import ConfigError, PermanentError
    from pipeline.tasks import failure_reason, poll_task

    try:
        return poll_task(source_id, force=bool(params.get("force")), dry_run=bool(params.get("dry_run")))
    except (PermanentError, ConfigError) as exc:  # a malformed feed or a 404 is not fixed by retrying now
        raise AirflowFailException(failure_reason(exc)) from exc


def _group_doc(group: ScheduleGroup, entries: dict[str, dict[str, Any]]) -> str:
    shown = group.source_ids[:DOC_SOURCES_SHOWN]
    rows = []
    for source_id in shown:
        source = SourceConfig.model_validate(entries[source_id])  # for its location, credentials masked
        about = " · ".join(str(value) for value in (source.outlet, source.category) if value)
        rows.append(f"- `{source_id}`: {source.type.value} at `{source.location}`{' · ' + about if about else ''}")
    more = len(group.source_ids) - len(shown)
    if more:
        rows.append(f"- ... and {more} more (`newsflow sources list`)")
    return (
        f"### Polls the {len(group.source_ids)} sources on schedule `{group.schedule}`\n\n"
        "Each run reads the sources file as it is then, polls every enabled source with this schedule in a "
        "mapped `poll` task instance named after the source, and `summary` lists the failing ones (the run fails "
        "only when every poll failed). To poll one source now, trigger `poll_source` and pick its id.\n\n"
        "Sources when the file was last parsed:\n\n" + "\n".join(rows)
    )


def build_group_dag(group: ScheduleGroup, entries: dict[str, dict[str, Any]]) -> Any:
    seconds = interval_seconds(group.schedule)

    @dag(
        dag_id=group.dag_id,
        description=f"Poll the {len(group.source_ids)} sources on schedule {group.schedule}",
        schedule=timedelta(seconds=seconds) if seconds else group.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["newsflow", "poll", *group.types],
        doc_md=_group_doc(group, entries),
        default_args=GROUP_ARGS,
        params={
            "force": Param(False, type="boolean", description="Re-push everything the sources list."),
            "dry_run": Param(False, type="boolean", description="Fetch and parse; push nothing."),
        },
    )
    def poll_schedule_dag() -> None:
        @task(task_id="sources")
        def sources(schedule: str = group.schedule) -> list[str]:
            from airflow.configuration import conf
            from airflow.sdk.exceptions import AirflowFailException

            from pipeline.tasks import select_task

            ids = select_task(schedule)
            limit = conf.getint("core", "max_map_length")
            if len(ids) > limit:
                raise AirflowFailException(
                    f"{len(ids)} sources on schedule {schedule}, more than Airflow maps in one task "
                    f"({limit}): raise AIRFLOW__CORE__MAX_MAP_LENGTH"
                )
            return ids

        @task(task_id="poll", map_index_template="{{ task.op_kwargs['source_id'] }}")
        def poll(source_id: str, **context: Any) -> dict[str, Any]:
            return _poll(source_id, context.get("params") or {})

        @task(task_id="summary", trigger_rule="all_done", retries=0)
        def summary(source_ids: list[str]) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowFailException

            from pipeline.tasks import AllPollsFailed, summary_task

            try:
                return summary_task(list(source_ids))
            except AllPollsFailed as exc:
                raise AirflowFailException(str(exc)) from exc

        selected = sources()
        summary(selected) << poll.expand(source_id=selected)

    return poll_schedule_dag()


def build_one_source_dag(source_ids: list[str]) -> Any:
    @dag(
        dag_id=ONE_SOURCE_DAG,
        description="Poll one source now (pick its id in the Trigger form)",
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["newsflow", "poll"],
        doc_md=(
            "### Poll one source now\n\n"
            "Trigger, type or pick the source id (the field suggests every enabled source), and Trigger. "
            "`force=true` re-pushes everything the source lists (backfill); `dry_run=true` fetches and "
            "parses without pushing. Scheduled polls run in the `poll__<schedule>` DAGs."
        ),
        default_args=ONE_SOURCE_ARGS,
        params={
            "source_id": Param(  # no default: the form asks for it
                type="string",
                minLength=1,
                examples=source_ids,
                description="The id of the source in the sources file.",
            ),
            "force": Param(False, type="boolean", description="Re-push everything the source lists."),
            "dry_run": Param(False, type="boolean", description="Fetch and parse; push nothing."),
        },
    )
    def poll_source_dag() -> None:
        @task(task_id="poll")
        def poll(**context: Any) -> dict[str, Any]:
            params = context.get("params") or {}
            return _poll(str(params.get("source_id") or ""), params)

        poll()

    return poll_source_dag()


_settings = Settings()
_entries = manifest.load(_settings.sources, _settings.state_dir).enabled()
_by_id = {str(entry["id"]): entry for entry in _entries}
for _group in plan(_entries):
    globals()[_group.dag_id] = build_group_dag(_group, _by_id)
globals()[ONE_SOURCE_DAG] = build_one_source_dag(sorted(_by_id))
