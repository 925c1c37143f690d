"""Scale out and in while items flow: two normalize workers join the group and leave it again. The group
rebalances without a duplicate in the index; the test prints the longest stall and how many raw records
were normalized twice, with cooperative rebalancing (the default) and with the eager `range` assignor."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaError

from pipeline import kafka, search
from pipeline.config import Settings
from tests.cluster.flow import Feeder, StallMeter, report, reprocessed
from tests.faults.invariants import assert_invariant, check, wait_drained
from tests.faults.workers import Workers
from tests.support import stacks

pytestmark = pytest.mark.services


def _members(settings: Settings) -> int:
    try:
        with kafka.admin(settings) as admin:
            described: Any = admin.describe_groups([settings.group_normalize])
    except KafkaError:  # no coordinator yet: the group has never had a member
        return 0
    group = described[settings.group_normalize] if isinstance(described, dict) else described[0]
    return len(group["members"])


def _wait_members(settings: Settings, count: int, timeout_s: float = 180) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _members(settings) == count:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"the normalize group never had {count} members")


@pytest.mark.parametrize("strategy", ["cooperative-sticky", "range"])
def test_two_normalizers_join_and_leave_mid_stream(cluster_settings: Settings, tmp_path: Path, strategy: str) -> None:
    settings = cluster_settings.model_copy(update={"kafka_assignment_strategy": strategy})
    stacks.prepare(settings)
    workers = Workers(settings, tmp_path / "logs")
    workers.start("normalize")
    workers.start("index")
    feeder = Feeder(settings, seed=400).start()
    meter = StallMeter(settings).start()
    es = search.client(settings)
    try:
        _wait_members(settings, 1)
        while es.count(index=settings.index_alias)["count"] == 0:
            time.sleep(0.25)
        time.sleep(3)
        out_at = time.monotonic()
        workers.start("normalize", 2)  # a new process takes a few seconds to import and connect
        joined_in = _wait_members(settings, 3)
        time.sleep(8)
        in_at = time.monotonic()
        retired = workers.retire("normalize", 2)
        left_in = _wait_members(settings, 1)
        time.sleep(5)
        expected = feeder.stop()
        wait_drained(settings)
        meter.stop()
        alive = workers.alive()
    finally:
        feeder.stop()
        meter.stop()
        codes = workers.stop()
    figures = check(settings, es, expected)
    again = reprocessed(settings, expected)
    handled = [path.read_text().count("normalize: ") for path in sorted((tmp_path / "logs").glob("normalize-*.log"))]
    print(
        "\n"
        + report(
            f"scale out and in, {strategy}",
            figures,
            meter.longest_stall(),
            f"2 normalizers joined (group of 3 after {joined_in:.1f}s; stall around it "
            f"{meter.longest_stall(out_at, in_at):.1f}s) and left (group of 1 after {left_in:.1f}s; stall around it "
            f"{meter.longest_stall(in_at, in_at + left_in + 5):.1f}s); raw records normalized twice {again}; "
            f"batches per normalizer {handled}; feeder batches produced again {feeder.refused}",
        )
    )
    assert retired == [0, 0], "a leaving normalizer did not stop cleanly"
    assert alive == {"normalize": 1, "index": 1}
    assert codes == {"normalize": [0], "index": [0]}
    assert all(batches > 0 for batches in handled), "a normalizer that joined never got a partition"
    assert_invariant(figures, expected)
