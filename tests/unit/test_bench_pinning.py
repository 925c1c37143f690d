"""Pinning a process group to cores and putting it back, on a real child process (no services needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipeline.bench import pinning


def test_split_cores() -> None:
    assert pinning.split_cores(frozenset({0, 1})) == (frozenset({0}), frozenset({1}))
    assert pinning.split_cores(frozenset({3, 1, 2})) == (frozenset({1}), frozenset({2, 3}))
    assert pinning.split_cores(frozenset({0})) is None


def test_pinned_command_uses_taskset_when_there_is_one() -> None:
    command = pinning.pinned_command(["newsflow", "worker", "index"], frozenset({1, 0}))
    assert command[-3:] == ["newsflow", "worker", "index"]
    if len(command) > 3:
        assert command[1:3] == ["-c", "0,1"]
    assert pinning.pinned_command(["x"], None) == ["x"]


def test_a_process_group_is_pinned_then_restored() -> None:
    cpus = pinning.available_cpus()
    target = frozenset({min(cpus)})
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)",
        ],
        start_new_session=True,  # its own process group, as a stack service has
    )
    try:
        deadline = time.monotonic() + 10
        while len(pinning.thread_ids(child.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pinning.group_pids(os.getpgid(child.pid)) == [child.pid]
        with pinning.pinned({os.getpgid(child.pid): target}) as pinned:
            assert len(pinned.saved) == 2
            for tid in pinning.thread_ids(child.pid):
                assert os.sched_getaffinity(tid) == target
        for tid in pinning.thread_ids(child.pid):
            assert os.sched_getaffinity(tid) == cpus
    finally:
        child.kill()
        child.wait()


def test_this_thread_on() -> None:
    cpus = pinning.available_cpus()
    with pinning.this_thread_on(frozenset({max(cpus)})):
        assert os.sched_getaffinity(0) == {max(cpus)}
    assert os.sched_getaffinity(0) == cpus
