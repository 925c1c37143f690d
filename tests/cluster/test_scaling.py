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
from tests.cluster.flow import flowing, report, reprocessed
from tests.faults.invariants import assert_invariant, check

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
    with flowing(settings, tmp_path / "logs", seed=400) as flow:
        _wait_members(settings, 1)
        time.sleep(3)
        out_at = time.monotonic()
        flow.workers.start("normalize", 2)  # a new process takes a few seconds to import and connect
        joined_in = _wait_members(settings, 3)
        time.sleep(8)
        in_at = time.monotonic()
        retired = flow.workers.retire("normalize", 2)
        left_in = _wait_members(settings, 1)
        time.sleep(5)
    expected, meter = flow.expected, flow.meter
    assert expected is not None
    figures = check(settings, search.client(settings), expected)
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
            f"batches per normalizer {handled}; feeder batches produced again {flow.feeder.refused}",
        )
    )
    assert retired == [0, 0], "a leaving normalizer did not stop cleanly"
    assert flow.alive == {"normalize": 1, "index": 1}
    assert flow.codes == {"normalize": [0], "index": [0]}
    assert all(batches > 0 for batches in handled), "a normalizer that joined never got a partition"
    assert_invariant(figures, expected)
