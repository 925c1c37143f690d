"""The pipeline's upkeep, for the `newsflow_maintenance` DAG: consumer lag and dead letters, checked against
limits; story records past their retention, pruned.

`collect` reads Kafka; `counts`, `problems` and `table` are pure. The task bodies at the end are
what the DAG calls: one reports (its return value is the run's XCom), the next fails the run
when a limit from settings (`max_lag`, `max_recent_deadletters`) is passed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline.config import Settings
from pipeline.errors import NewsflowError
from schemas.models import DeadLetter, Stage

log = logging.getLogger("newsflow.maintenance")

RECENT = timedelta(hours=24)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupLag(_Frozen):
    group: str
    topic: str
    lag: int


class DeadLetterCounts(_Frozen):
    total: int = 0
    recent: int = 0
    by_stage: dict[str, int] = {}
    recent_by_stage: dict[str, int] = {}


class HealthReport(_Frozen):
    checked_at: datetime
    lag: list[GroupLag]
    deadletters: DeadLetterCounts


class Unhealthy(NewsflowError):
    """A health limit was passed; the message lists every one."""


def counts(letters: Iterable[DeadLetter], since: datetime) -> DeadLetterCounts:
    """Dead letters in all and since `since`, per stage (every stage listed, zeros included)."""
    every: Counter[str] = Counter({stage.value: 0 for stage in Stage})
    recent: Counter[str] = Counter({stage.value: 0 for stage in Stage})
    for letter in letters:
        every[letter.stage.value] += 1
        if letter.failed_at >= since:
            recent[letter.stage.value] += 1
    return DeadLetterCounts(
        total=sum(every.values()), recent=sum(recent.values()), by_stage=dict(every), recent_by_stage=dict(recent)
    )


def collect(settings: Settings, now: datetime | None = None) -> HealthReport:
    """Lag of the fetch group on both fetch topics, of the normalize group on the raw topic and of the index
    group on the articles topic; dead letters."""
    from pipeline import deadletters, kafka  # Kafka clients load only when a check runs

    now = now or datetime.now(UTC)
    lag = [
        GroupLag(group=group, topic=topic, lag=kafka.lag(settings, group, topic))
        for group, topic in (
            (settings.group_fetch, settings.topic_fetch),
            (settings.group_fetch, settings.topic_fetch_retry),
            (settings.group_normalize, settings.topic_raw),
            (settings.group_index, settings.topic_articles),
        )
    ]
    return HealthReport(checked_at=now, lag=lag, deadletters=counts(deadletters.read(settings), now - RECENT))


def problems(report: HealthReport, *, max_lag: int, max_recent_deadletters: int) -> list[str]:
    """What passes a limit (strictly more than it), one sentence each; empty when healthy."""
    found = [
        f"consumer group {row.group} lags {row.lag} messages on {row.topic} (limit {max_lag})"
        for row in report.lag
        if row.lag > max_lag
    ]
    recent = report.deadletters.recent
    if recent > max_recent_deadletters:
        stages = ", ".join(f"{stage} {n}" for stage, n in report.deadletters.recent_by_stage.items() if n)
        found.append(
            f"{recent} items dead-lettered in the last {RECENT.total_seconds() / 3600:g} h ({stages}; "
            f"limit {max_recent_deadletters}): see `newsflow deadletter list --since 24h`"
        )
    return found


def table(report: HealthReport) -> str:
    width = max([len("consumer group"), *(len(row.group) for row in report.lag)]) + 2
    topic_width = max([len("topic"), *(len(row.topic) for row in report.lag)]) + 2
    lines = [f"{'consumer group':<{width}}{'topic':<{topic_width}}{'lag':>10}"]
    lines += [f"{row.group:<{width}}{row.topic:<{topic_width}}{row.lag:>10}" for row in report.lag]
    dead = report.deadletters
    lines += ["", f"{'dead letters':<14}{'total':>10}{'last 24 h':>12}"]
    lines += [f"{stage:<14}{n:>10}{dead.recent_by_stage.get(stage, 0):>12}" for stage, n in dead.by_stage.items()]
    lines.append(f"{'all':<14}{dead.total:>10}{dead.recent:>12}")
    return "\n".join(lines)


def report_task() -> dict[str, Any]:
    """Task body: collect, log as a table, return (as JSON-ready data) for the next task and XCom."""
    report = collect(Settings())
    log.info("pipeline health at %s\n%s", report.checked_at.isoformat(timespec="seconds"), table(report))
    return report.model_dump(mode="json")


def check_task(data: dict[str, Any]) -> dict[str, Any]:
    """Task body: raise `Unhealthy` (failing the run) when the report passes a limit from settings."""
    settings = Settings()
    report = HealthReport.model_validate(data)
    found = problems(report, max_lag=settings.max_lag, max_recent_deadletters=settings.max_recent_deadletters)
    for problem in found:
        log.error("unhealthy: %s", problem)
    if found:
        raise Unhealthy("; ".join(found))
    log.info("healthy: lag within %d, dead letters within %d a day", settings.max_lag, settings.max_recent_deadletters)
    return {"healthy": True, "max_lag": settings.max_lag, "max_recent_deadletters": settings.max_recent_deadletters}


def prune_story_records(settings: Settings, now: datetime | None = None, retention_days: float | None = None) -> int:
    """Delete the story records of articles published and grouped more than the retention ago
    (`story_record_retention_days`, at least the story window); returns how many."""
    from pipeline import search  # Elasticsearch's client loads only when the task runs
    from pipeline.stories.store import StoryStore

    days = settings.story_record_retention_days if retention_days is None else retention_days
    before = (now or datetime.now(UTC)) - timedelta(days=days)
    es = search.client(settings)
    try:
        return StoryStore(es, settings).prune(before)
    finally:
        es.close()


def prune_task() -> dict[str, Any]:
    """Task body: prune the story records past the retention; the count is the run's XCom."""
    settings = Settings()
    deleted = prune_story_records(settings)
    log.info("story records pruned: %d older than %g days", deleted, settings.story_record_retention_days)
    return {"deleted": deleted, "retention_days": settings.story_record_retention_days}
