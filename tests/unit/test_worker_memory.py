"""The worker's allocator settings reach glibc (mallopt accepts them on this machine: Linux, glibc), and its
collector's thresholds are set."""

from __future__ import annotations

import json
import subprocess
import sys

from pipeline.workers.memory import COLLECTOR_THRESHOLDS


def test_glibc_accepts_the_allocator_settings() -> None:
    # In a child: mallopt's settings are process-wide and must not leak into the test process.
    code = "from pipeline.workers.memory import tune_allocator; print(tune_allocator())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_the_collector_runs_less_often_in_a_worker_process() -> None:
    # In a child, as above: the thresholds are process-wide.
    code = (
        "import gc, json; from pipeline.workers.memory import tune_collector; "
        "before = gc.get_threshold(); tune_collector(); print(json.dumps([before, gc.get_threshold()]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = json.loads(result.stdout)
    assert after == list(COLLECTOR_THRESHOLDS) and after[0] > before[0]
