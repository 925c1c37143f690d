"""`newsflow_maintenance`: every 15 minutes, report consumer lag and dead letters (fail when past the limits),
and prune story records past their retention.

Light at parse time: nothing but airflow.sdk is imported here; the task bodies are plain
functions in `pipeline.maintenance`, imported when a task runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

DOC = """\
### Pipeline health

- **report**: the lag of the fetch group on the fetch and fetch-retry topics, of the normalize
  group on the raw topic and of the index group on the articles topic, and the dead letters
  (in all, per stage, in the last 24 h), logged as a table and returned (XCom).
- **check**: fails the run when a group lags more than `NEWSFLOW_MAX_LAG` messages or more than
  `NEWSFLOW_MAX_RECENT_DEADLETTERS` items were dead-lettered in the last 24 h; its log says which.

- **prune_story_records**: deletes the story grouping's records of articles published and grouped
  more than `NEWSFLOW_STORY_RECORD_RETENTION_DAYS` (30) ago; past the story window no copy matches them.

A failed run is the alert. Look at the letters with `newsflow deadletter list --since 24h` and,
once the cause is fixed, send them back with `newsflow deadletter replay --since 24h`.
"""


@dag(
    dag_id="newsflow_maintenance",
    description="Consumer lag and dead letters, checked against limits; story records pruned",
    schedule=timedelta(minutes=15),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["newsflow", "maintenance"],
    doc_md=DOC,
    default_args={"owner": "newsflow", "retries": 0},
)
def newsflow_maintenance() -> None:
    @task(task_id="report")
    def report() -> dict[str, Any]:
        from pipeline.maintenance import report_task

        return report_task()

    @task(task_id="check")
    def check(health: dict[str, Any]) -> dict[str, Any]:
        from pipeline.maintenance import check_task

        return check_task(health)

    @task(task_id="prune_story_records")
    def prune_story_records() -> dict[str, Any]:
        from pipeline.maintenance import prune_task

        return prune_task()

    check(report())
    prune_story_records()


newsflow_maintenance()
