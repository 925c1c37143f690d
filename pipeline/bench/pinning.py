"""Cores for the pinned end-to-end run: Elasticsearch on one, the pipeline (workers, Kafka, the bench) on the other.

What `taskset -a -p` does to a running process, done with `sched_setaffinity` on every thread of the
local stack's service processes, and undone afterwards (each thread gets its own mask back; threads
started meanwhile inherit the pinned mask from the thread that started them, so they are reset to the
process's original mask). Worker processes are started under `taskset -c` (or pinned right after the
start when `taskset` is missing). Only the local stack (`newsflow stack up`) can be pinned: under
Docker the processes are not ours to find, and the pinned figures are reported as unavailable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Cpus = frozenset[int]


def available_cpus() -> Cpus:
    return frozenset(os.sched_getaffinity(0))


def split_cores(cpus: Cpus) -> tuple[Cpus, Cpus] | None:
    """(Elasticsearch's core, the pipeline's cores): the first core alone, and the others; None on one core."""
    ordered = sorted(cpus)
    if len(ordered) < 2:
        return None
    return frozenset(ordered[:1]), frozenset(ordered[1:])


def cpu_list(cpus: Cpus) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def pinned_command(command: Sequence[str], cpus: Cpus | None) -> list[str]:
    """`command` started on `cpus` with taskset (unchanged when there is no taskset or no cpus)."""
    taskset = shutil.which("taskset")
    if cpus is None or taskset is None:
        return list(command)
    return [taskset, "-c", cpu_list(cpus), *command]


def group_pids(pgid: int, proc: Path = Path("/proc")) -> list[int]:
    """The live processes of process group `pgid`."""
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def thread_ids(pid: int, proc: Path = Path("/proc")) -> list[int]:
    try:
        return [int(name) for name in os.listdir(proc / str(pid) / "task")]
    except OSError:
        return []


@dataclass
class Pinning:
    """Pins process groups to cores until `restore()`; `saved` holds each thread's mask before."""

    saved: dict[int, set[int]] = field(default_factory=dict)  # tid -> its mask before
    process_masks: dict[int, set[int]] = field(default_factory=dict)  # pid -> the process's mask before

    def pin_group(self, pgid: int, cpus: Cpus) -> int:
        """Pin every thread of every process of the group; the number of threads pinned."""
        pinned = 0
        for pid in group_pids(pgid):
            with contextlib.suppress(OSError):
                self.process_masks.setdefault(pid, set(os.sched_getaffinity(pid)))
            for tid in thread_ids(pid):
                try:
                    self.saved.setdefault(tid, set(os.sched_getaffinity(tid)))
                    os.sched_setaffinity(tid, cpus)
                    pinned += 1
                except OSError:  # a thread that ended meanwhile
                    continue
        return pinned

    def restore(self) -> list[str]:
        """Every pinned process's threads back to their masks; what could not be restored."""
        problems: list[str] = []
        for pid, mask in self.process_masks.items():
            for tid in thread_ids(pid):
                try:
                    os.sched_setaffinity(tid, self.saved.get(tid, mask))
                except OSError as exc:
                    if Path(f"/proc/{pid}/task/{tid}").exists():
                        problems.append(f"thread {tid} of process {pid}: {exc}")
        self.saved.clear()
        self.process_masks.clear()
        return problems


@contextlib.contextmanager
def pinned(groups: Mapping[int, Cpus]) -> Iterator[Pinning]:
    """Pin each process group (pgid -> cores) for the duration of the block."""
    pinning = Pinning()
    try:
        for pgid, cpus in groups.items():
            pinning.pin_group(pgid, cpus)
        yield pinning
    finally:
        pinning.restore()


@contextlib.contextmanager
def this_thread_on(cpus: Cpus | None) -> Iterator[None]:
    """Run the calling thread (and the threads it starts meanwhile) on `cpus`."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
