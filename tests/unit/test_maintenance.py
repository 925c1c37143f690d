"""The maintenance check's pure parts: counting dead letters, deciding against the limits, the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.deadletter import dead_letter
from pipeline.maintenance import RECENT, DeadLetterCounts, GroupLag, HealthReport, counts, problems, table
from schemas.models import DeadLetter, Stage

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _report(normalize_lag: int = 0, index_lag: int = 0, recent: int = 0) -> HealthReport:
    return HealthReport(
        checked_at=NOW,
        lag=[
            GroupLag(group="newsflow-normalize", topic="news.raw", lag=normalize_lag),
            GroupLag(group="newsflow-index", topic="news.articles", lag=index_lag),
        ],
        deadletters=DeadLetterCounts(
            total=recent + 5,
            recent=recent,
            by_stage={"poll": 5, "normalize": recent, "index": 0},
            recent_by_stage={"poll": 0, "normalize": recent, "index": 0},
        ),
    )


def test_counts_per_stage_and_in_the_recent_window() -> None:
    def at(stage: Stage, age: timedelta) -> DeadLetter:
        return dead_letter(stage, "e", "m", b"x", now=NOW - age)

    letters = [
        at(Stage.POLL, timedelta(days=3)),
        at(Stage.NORMALIZE, timedelta(hours=1)),
        at(Stage.NORMALIZE, RECENT),  # exactly at the edge: recent
        at(Stage.NORMALIZE, RECENT + timedelta(seconds=1)),
    ]
    result = counts(letters, NOW - RECENT)
    assert result == DeadLetterCounts(
        total=4,
        recent=2,
        by_stage={"poll": 1, "fetch": 0, "normalize": 3, "index": 0},
        recent_by_stage={"poll": 0, "fetch": 0, "normalize": 2, "index": 0},
    )
    assert counts([], NOW).by_stage == {"poll": 0, "fetch": 0, "normalize": 0, "index": 0}


@pytest.mark.parametrize(
    ("report", "max_lag", "max_recent", "expected"),
    [
        (_report(), 0, 0, []),
        (_report(normalize_lag=10, index_lag=10, recent=3), 10, 3, []),  # at the limits is still healthy
        (
            _report(normalize_lag=11),
            10,
            3,
            ["consumer group newsflow-normalize lags 11 messages on news.raw (limit 10)"],
        ),
        (
            _report(normalize_lag=11, index_lag=12),
            10,
            3,
            [
                "consumer group newsflow-normalize lags 11 messages on news.raw (limit 10)",
                "consumer group newsflow-index lags 12 messages on news.articles (limit 10)",
            ],
        ),
        (
            _report(recent=4),
            10,
            3,
            [
                "4 items dead-lettered in the last 24 h (normalize 4; limit 3): "
                "see `newsflow deadletter list --since 24h`"
            ],
        ),
    ],
)
def test_problems_are_whatever_passes_a_limit(
    report: HealthReport, max_lag: int, max_recent: int, expected: list[str]
) -> None:
    assert problems(report, max_lag=max_lag, max_recent_deadletters=max_recent) == expected


def test_old_dead_letters_alone_never_fail_the_check() -> None:
    report = _report(recent=0)
    assert report.deadletters.total == 5
    assert problems(report, max_lag=0, max_recent_deadletters=0) == []


def test_table_lists_each_group_and_stage() -> None:
    lines = table(_report(normalize_lag=7, recent=2)).splitlines()
    assert lines[0].split() == ["consumer", "group", "topic", "lag"]
    assert lines[1].split() == ["newsflow-normalize", "news.raw", "7"]
    assert lines[2].split() == ["newsflow-index", "news.articles", "0"]
    assert [line.split() for line in lines[-4:]] == [
        ["poll", "5", "0"],
        ["normalize", "2", "2"],
        ["index", "0", "0"],
        ["all", "7", "2"],
    ]


def test_the_report_survives_xcom_as_json() -> None:
    report = _report(normalize_lag=3, recent=1)
    assert HealthReport.model_validate(report.model_dump(mode="json")) == report
