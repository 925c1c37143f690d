"""The worker's allocator settings reach glibc: mallopt accepts them on this machine (Linux, glibc)."""

from __future__ import annotations

import subprocess
import sys


def test_glibc_accepts_the_allocator_settings() -> None:
    # In a child: mallopt's settings are process-wide and must not leak into the test process.
    code = "from pipeline.workers.memory import tune_allocator; print(tune_allocator())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
