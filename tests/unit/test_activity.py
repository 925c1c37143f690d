"""When `worker all --until-idle` may stop: the shared activity of its stages, on a hand-moved clock."""

from __future__ import annotations

from pipeline.workers.consume import Activity


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_idle_only_when_no_stage_is_busy_or_holding_postponed_work() -> None:
    clock = Clock()
    activity = Activity(clock)
    activity.begin()  # a stage starting
    clock.now += 10
    assert activity.idle_for() == 0.0
    activity.end()
    clock.now += 1.5
    assert activity.idle_for() == 1.5
    activity.begin()
    activity.begin()  # two stages in a batch
    activity.end()
    clock.now += 5
    assert activity.idle_for() == 0.0  # one is still busy
    activity.end()
    assert activity.idle_for() == 0.0  # its batch just ended
    activity.waiting("fetch", 3)  # postponed pages due later keep the process alive
    clock.now += 60
    assert activity.idle_for() == 0.0
    activity.waiting("fetch", 0)
    clock.now += 2
    assert activity.idle_for() == 2.0
