"""Retry decisions, as pure functions: what to do with a response, and how long to wait."""

from __future__ import annotations

import random
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    STALE = "stale"  # an older copy than the stored one: nothing to do, counts as success
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


def classify_status(status: int) -> Outcome:
    """Outcome of one document's write from its HTTP status."""
    if 200 <= status < 300:
        return Outcome.OK
    if status == 409:
        return Outcome.STALE
    if status == 429 or status >= 500 or status in (408,):
        return Outcome.RETRY
    return Outcome.DEAD_LETTER


def backoff_s(attempt: int, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap_s, base_s * (2 ** max(attempt, 0)))
    return (rng or random).uniform(0, ceiling)
