"""The maintenance DAG on the real stack: healthy runs succeed, too many recent dead letters fail the run;
and a poll DAG whose only feed is malformed fails with the reason on one ERROR line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline import kafka
from pipeline.config import Settings
from pipeline.deadletter import dead_letter
from pipeline.emit import KafkaEmitter
from schemas.models import Stage
from tests.e2e.conftest import RunDagsWithOutput

pytestmark = pytest.mark.services

DAG = "newsflow_maintenance"


def _sources(tmp: Path, feed: Path | None = None) -> Path:
    entries = []
    if feed is not None:
        entries.append(
            {"id": "broken-feed", "type": "feed", "url": feed.as_uri(), "outlet": "o", "category": "c", "trusted": True}
        )
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}), encoding="utf-8")
    return path


def _dead_letters(settings: Settings, count: int) -> None:
    emitter = KafkaEmitter(settings)
    try:
        for n in range(count):
            emitter.dead(
                dead_letter(Stage.NORMALIZE, "invalid_raw_item", f"broken #{n}", b"{", source_id="s", item_id=f"i{n}")
            )
        emitter.flush()
    finally:
        emitter.close()


def test_healthy_pipeline_passes_the_check(
    isolated: Settings, tmp_path: Path, run_dags_with_output: RunDagsWithOutput
) -> None:
    settings = isolated.model_copy(update={"max_recent_deadletters": 2, "max_lag": 0})
    kafka.ensure_topics(settings)
    _dead_letters(settings, 2)  # at the limit, not past it

    states, output = run_dags_with_output(settings, _sources(tmp_path), [DAG])

    assert states == {DAG: "success"}, output[-3000:]
    assert "dead letters" in output and settings.group_normalize in output  # the table was logged


def test_too_many_recent_dead_letters_fail_the_run(
    isolated: Settings, tmp_path: Path, run_dags_with_output: RunDagsWithOutput
) -> None:
    settings = isolated.model_copy(update={"max_recent_deadletters": 2})
    kafka.ensure_topics(settings)
    _dead_letters(settings, 3)

    states, output = run_dags_with_output(settings, _sources(tmp_path), [DAG])

    assert states == {DAG: "failed"}
    assert "3 items dead-lettered in the last 24 h (normalize 3; limit 2)" in output


def test_lag_past_the_limit_fails_the_run(
    isolated: Settings, tmp_path: Path, run_dags_with_output: RunDagsWithOutput
) -> None:
    settings = isolated.model_copy(update={"max_lag": 1})
    kafka.ensure_topics(settings)
    emitter = KafkaEmitter(settings)
    try:
        for n in range(2):  # nobody consumes them: the normalize group lags 2
            emitter.send_bytes(settings.topic_raw, f"k{n}", b"{}", None)
        emitter.flush()
    finally:
        emitter.close()

    states, output = run_dags_with_output(settings, _sources(tmp_path), [DAG])

    assert states == {DAG: "failed"}
    assert f"consumer group {settings.group_normalize} lags 2 messages on {settings.topic_raw} (limit 1)" in output


def test_a_failing_poll_logs_its_reason_on_one_error_line(
    isolated: Settings, tmp_path: Path, run_dags_with_output: RunDagsWithOutput
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("<rss><channel><title>cut off", encoding="utf-8")
    kafka.ensure_topics(isolated)

    states, output = run_dags_with_output(isolated, _sources(tmp_path, feed), ["poll__hourly"])

    assert states == {"poll__hourly": "failed"}  # its only source failed
    lines = output.splitlines()
    ours = [n for n, line in enumerate(lines) if "poll of broken-feed failed: malformed rss feed" in line]
    assert len(ours) == 1, output[-3000:]
    assert "error" in lines[ours[0]].lower()
    traceback = next(n for n, line in enumerate(lines) if line.startswith("Traceback"))
    assert ours[0] < traceback  # the reason comes before the traceback
