"""Which DAG polls which source: schedules grouped, DAG ids readable and valid, disabled sources left out."""

from __future__ import annotations

import re

import pytest

from pipeline.poll_plan import interval_seconds, plan, schedule_slug, sources_of


def _entry(source_id: str, schedule: str, *, enabled: bool = True, type_: str = "feed") -> dict[str, object]:
    return {"id": source_id, "schedule": schedule, "enabled": enabled, "type": type_}


@pytest.mark.parametrize(
    ("schedule", "slug"),
    [
        ("@hourly", "hourly"),
        ("@daily", "daily"),
        ("30m", "every_30m"),
        ("60m", "every_1h"),
        ("1h", "every_1h"),
        ("3600s", "every_1h"),
        ("90m", "every_90m"),
        ("2d", "every_2d"),
        ("45s", "every_45s"),
        ("15 * * * *", "cron_15_x_x_x_x"),
        ("15  *  * * *", "cron_15_x_x_x_x"),
        ("*/5 9-17 * * 1,3", "cron_xby5_9to17_x_x_1and3"),
        ("0 6 * * MON-FRI", "cron_0_6_x_x_MONtoFRI"),
    ],
)
def test_schedule_slugs_are_readable(schedule: str, slug: str) -> None:
    assert schedule_slug(schedule) == slug


def test_interval_seconds() -> None:
    assert [interval_seconds(s) for s in ("30m", "2h", "10s", "1d", "@hourly", "0 * * * *")] == [
        1800,
        7200,
        10,
        86400,
        None,
        None,
    ]


def test_sources_are_grouped_by_schedule_and_disabled_ones_left_out() -> None:
    entries = [
        _entry("a", "@hourly"),
        _entry("b", "30m", type_="jekyll"),
        _entry("c", "@hourly", type_="git"),
        _entry("d", "60m"),
        _entry("e", "1h", type_="sitemap"),
        _entry("off", "@hourly", enabled=False),
        _entry("f", "15 * * * *"),
    ]
    groups = {group.dag_id: group for group in plan(entries)}
    assert list(groups) == sorted(groups)
    assert {dag_id: group.source_ids for dag_id, group in groups.items()} == {
        "poll__hourly": ("a", "c"),
        "poll__every_30m": ("b",),
        "poll__every_1h": ("d", "e"),  # the same interval written two ways is one DAG
        "poll__cron_15_x_x_x_x": ("f",),
    }
    assert groups["poll__hourly"].types == ("feed", "git")
    assert groups["poll__every_1h"].types == ("feed", "sitemap")
    assert groups["poll__every_1h"].schedule == "60m"
    assert sources_of(entries, "1h") == ["d", "e"]
    assert sources_of(entries, "@hourly") == ["a", "c"]
    assert sources_of(entries, "@weekly") == []


def test_every_dag_id_is_valid_for_airflow() -> None:
    odd = ["0 0 L * *", "0 0 1W * *", "0 0 * * 5#3", "0 0 * * 5L", "@every weird"]
    groups = plan(_entry(f"s{n}", schedule) for n, schedule in enumerate(odd))
    assert len(groups) == len(odd)
    for group in groups:
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", group.dag_id), group.dag_id
