from __future__ import annotations

import random

import pytest

from pipeline.retry import Outcome, backoff_s, classify_status


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.OK),
        (201, Outcome.OK),
        (409, Outcome.STALE),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
        (408, Outcome.RETRY),
        (400, Outcome.DEAD_LETTER),
        (404, Outcome.DEAD_LETTER),
        (413, Outcome.DEAD_LETTER),
    ],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0)])
def test_backoff_is_jittered_under_an_exponential_ceiling(attempt: int, ceiling: float) -> None:
    rng = random.Random(attempt)
    waits = [backoff_s(attempt, base_s=0.5, cap_s=30.0, rng=rng) for _ in range(200)]
    assert all(0 <= w <= ceiling for w in waits)
    assert max(waits) > ceiling * 0.8  # full jitter spreads over the whole range
    assert len(set(waits)) > 150
