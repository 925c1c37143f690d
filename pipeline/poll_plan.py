"""Which Airflow DAG polls which source: one DAG per schedule, one mapped task instance per source.

Pure: it works on the manifest's entries (plain dicts) and returns plain values, so the DAG file only
loops over them. A DAG per source made parsing grow with the sources (2,000 sources: 8.3 s, 10,000:
past Airflow's 30 s import timeout); a DAG per schedule keeps the DAG count at the number of distinct
schedules, and the sources of a schedule are read when its run starts, not when the file is parsed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCHEDULE_DAG_PREFIX = "poll__"
ONE_SOURCE_DAG = "poll_source"

_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_CRON_CHARS = {"*": "x", "/": "by", ",": "and", "-": "to", "?": "q", "#": "nth", " ": "_"}
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


@dataclass(frozen=True)
class ScheduleGroup:
    """The enabled sources that share one schedule, polled by one DAG."""

    dag_id: str
    schedule: str
    source_ids: tuple[str, ...]
    types: tuple[str, ...]


def interval_seconds(schedule: str) -> int | None:
    match = _INTERVAL.match(schedule.strip())
    if not match:
        return None
    return int(match.group(1)) * dict(_UNITS)[match.group(2)]


def schedule_slug(schedule: str) -> str:
    """A readable DAG id part for a schedule: `@hourly` -> `hourly`, `90m` -> `every_90m`,
    `3600s` -> `every_1h`, `15 * * * *` -> `cron_15_x_x_x_x`, `*/5 9-17 * * 1,3` -> `cron_xby5_9to17_x_x_1and3`."""
    schedule = " ".join(schedule.split())
    seconds = interval_seconds(schedule)
    if seconds is not None:
        for unit, size in _UNITS:
            if seconds and seconds % size == 0:
                return f"every_{seconds // size}{unit}"
        return "every_0s"
    if schedule.startswith("@"):
        return schedule[1:]
    return "cron_" + "".join(_CRON_CHARS.get(char, char) for char in schedule)


def schedule_key(schedule: str) -> str:
    """Schedules that mean the same (`60m`, `1h`; extra spaces in a cron) share one group."""
    return schedule_slug(schedule)


def plan(entries: Iterable[Mapping[str, Any]]) -> list[ScheduleGroup]:
    """Enabled sources grouped by schedule, groups ordered by DAG id, sources in file order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        if entry.get("enabled", True):
            groups.setdefault(schedule_key(str(entry["schedule"])), []).append(entry)
    result = []
    for key, members in groups.items():
        dag_id = SCHEDULE_DAG_PREFIX + key
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", dag_id):  # a cron with odd characters: keep it unique
            dag_id = SCHEDULE_DAG_PREFIX + "cron_" + hashlib.sha256(key.encode()).hexdigest()[:12]
        result.append(
            ScheduleGroup(
                dag_id=dag_id,
                schedule=str(members[0]["schedule"]),
                source_ids=tuple(str(m["id"]) for m in members),
                types=tuple(sorted({str(m["type"]) for m in members})),
            )
        )
    return sorted(result, key=lambda group: group.dag_id)


def sources_of(entries: Iterable[Mapping[str, Any]], schedule: str) -> list[str]:
    """Ids of the enabled sources whose schedule is the same as `schedule` (what a group's run polls)."""
    key = schedule_key(schedule)
    return [
        str(entry["id"])
        for entry in entries
        if entry.get("enabled", True) and schedule_key(str(entry["schedule"])) == key
    ]
