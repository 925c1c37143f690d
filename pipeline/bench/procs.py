"""Worker processes as the bench runs them, and what they cost: peak RSS, CPU time, machine load.

Workers are the real command (`newsflow worker normalize|index`) in child processes, configured
only through `NEWSFLOW_*` variables, as in production. Peak RSS is the kernel's high-water mark
`VmHWM` in /proc/<pid>/status, sampled while the worker runs and once more just before it is asked
to stop. (Not wait4()'s `ru_maxrss`: Linux carries the parent's peak over into a forked child, so
it would report the bench's own memory.) wait4() gives each worker's CPU time; the local stack's
services are charged by the CPU time of their process groups.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.bench.pinning import Cpus, pinned_command
from pipeline.config import Settings

STOP_TIMEOUT_S = 30.0
SAMPLE_EVERY_S = 0.2
# What a worker logs after each batch it handled (`pipeline.workers.main`): the end of its startup.
BATCH_LOGGED = b" records in "


def worker_command(kind: str, until_idle_s: float | None) -> list[str]:
    """`newsflow worker <kind>` from this interpreter's environment."""
    script = Path(sys.executable).with_name("newsflow")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]
    command += ["worker", kind]
    if until_idle_s is not None:
        command += ["--until-idle", str(until_idle_s)]
    return command


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(settings.as_env())
    return env


@dataclass
class Worker:
    kind: str
    process: subprocess.Popen[bytes]
    log: Path
    peak_rss_kb: int = 0
    cpu_s: float = 0.0
    exit_code: int | None = None
    has_handled_a_batch: bool = False

    def handled_a_batch(self) -> bool:
        """Whether the worker has logged a handled batch: it has imported, loaded and joined its group."""
        if not self.has_handled_a_batch:
            try:
                self.has_handled_a_batch = BATCH_LOGGED in self.log.read_bytes()
            except OSError:
                return False
        return self.has_handled_a_batch

    @property
    def pid(self) -> int:
        return self.process.pid

    def status_kb(self, key: str) -> int:
        """A memory figure of /proc/<pid>/status in KiB (VmRSS: resident now, VmHWM: peak), 0 once gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
        return 0

    def cpu_now(self) -> float | None:
        """CPU seconds (user + system, all threads) so far, from /proc; None once the process is gone."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sample_rss(self) -> None:
        """Fold the current VmHWM (peak resident set so far) into `peak_rss_kb`."""
        self.peak_rss_kb = max(self.peak_rss_kb, self.status_kb("VmHWM"))

    def reap(self, timeout_s: float) -> bool:
        """Wait for the exit (up to `timeout_s`); take its max RSS and CPU time. True if it exited."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.sample_rss()
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.exit_code = os.waitstatus_to_exitcode(status)
                self.process.returncode = self.exit_code  # reaped here: Popen must not wait again
                self.cpu_s = usage.ru_utime + usage.ru_stime
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


@dataclass
class WorkerSet:
    """Normalize and index workers of one stage; a thread samples their RSS while they run."""

    settings: Settings
    per_stage: int
    until_idle_s: float | None
    log_dir: Path
    cpus: Cpus | None = None  # the cores the workers run on (taskset); None: any
    workers: list[Worker] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    def start(self) -> None:
        env = worker_env(self.settings)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for kind in ("normalize", "index"):
            for n in range(self.per_stage):
                log = self.log_dir / f"{kind}-{n}.log"
                with log.open("wb") as out:
                    process = subprocess.Popen(
                        pinned_command(worker_command(kind, self.until_idle_s), self.cpus),
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                if self.cpus is not None and not shutil.which("taskset"):
                    os.sched_setaffinity(process.pid, self.cpus)  # before its first threads, most likely
                self.workers.append(Worker(kind, process, log))
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            for worker in self.workers:
                if worker.exit_code is None:
                    worker.sample_rss()

    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.exit_code is None and w.process.poll() is None]

    def stop(self) -> None:
        """SIGTERM (each stops after the batch in hand), then reap; SIGKILL whatever is still there."""
        for worker in self.workers:
            if worker.exit_code is None:
                worker.sample_rss()
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.exit_code is None and not worker.reap(STOP_TIMEOUT_S):
                worker.process.kill()
                worker.reap(STOP_TIMEOUT_S)
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=5)

    def failed(self) -> list[str]:
        """Why workers that exited on their own with an error did so (the end of their log)."""
        reasons = []
        for worker in self.workers:
            if worker.exit_code not in (None, 0, -signal.SIGTERM):
                tail = worker.log.read_text(errors="replace")[-600:].strip()
                reasons.append(f"{worker.kind} worker (pid {worker.pid}) exited {worker.exit_code}: {tail}")
        return reasons

    def peak_rss_kb(self, kind: str) -> int:
        return max((w.peak_rss_kb for w in self.workers if w.kind == kind), default=0)

    def current_rss_kb(self, kind: str) -> int:
        return max((w.status_kb("VmRSS") for w in self.workers if w.kind == kind), default=0)

    def cpu_s(self, kind: str) -> float:
        return sum(w.cpu_s for w in self.workers if w.kind == kind)

    def started(self, kind: str) -> int:
        """How many workers of `kind` have handled a batch (are past their startup)."""
        return sum(1 for w in self.workers if w.kind == kind and w.handled_a_batch())

    def cpu_now(self, kind: str) -> float:
        """CPU seconds so far of the workers of `kind` (those already reaped count their final CPU time)."""
        return sum(
            w.cpu_s if w.exit_code is not None else (w.cpu_now() or w.cpu_s) for w in self.workers if w.kind == kind
        )

    def remove_logs(self) -> None:
        shutil.rmtree(self.log_dir, ignore_errors=True)


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Average number of busy cores between two `machine_jiffies()` readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else 0.0


def service_groups(settings: Settings) -> dict[str, int]:
    """Process-group ids of the local stack's services that `newsflow stack up` runs (none under Docker)."""
    from pipeline.stack import airflow_server, es_node, kafka_broker

    found = {
        "elasticsearch": es_node.process(settings).pid(),
        "kafka": kafka_broker.process(settings).pid(),
        "airflow": airflow_server.process(settings).pid(),
    }
    return {name: pid for name, pid in found.items() if pid is not None}


@dataclass(frozen=True)
class ProcessCpu:
    pid: int
    pgid: int
    command: str
    cpu_s: float  # user + system, since the process started


def processes() -> dict[int, ProcessCpu]:
    """Every live process with its CPU time so far, from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, ProcessCpu] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
            fields = tail.split()  # after the command: state, ppid, pgrp, ..., utime (12th), stime (13th)
            command = head.split("(", 1)[1]
            found[int(entry.name)] = ProcessCpu(
                int(entry.name), int(fields[2]), command, (int(fields[11]) + int(fields[12])) / ticks
            )
        except (OSError, IndexError, ValueError):
            continue
    return found


@dataclass
class CpuUse:
    """Where the machine's CPU went between `CpuMeter.start()` and `CpuMeter.stop()`."""

    busy_cores: float
    by_name: dict[str, float]  # CPU seconds of each stack service, and of the bench itself
    others: list[tuple[str, float]]  # the busiest other processes: ("command (pid)", CPU seconds)


class CpuMeter:
    """Charges CPU to the local stack's services (by process group), the bench, and anyone else."""

    TOP_OTHERS = 3

    def __init__(self, settings: Settings) -> None:
        self._groups = service_groups(settings)
        self._jiffies = (0, 0)
        self._before: dict[int, ProcessCpu] = {}
        self._bench = 0.0

    def start(self) -> None:
        self._before = processes()
        self._bench = time.process_time()
        self._jiffies = machine_jiffies()

    def stop(self, exclude: set[int]) -> CpuUse:
        """The use since `start`; processes in `exclude` (the workers: wait4 accounts for them) are left out."""
        load = busy_cores(self._jiffies, machine_jiffies())
        bench = time.process_time() - self._bench
        after = processes()
        by_group = {pgid: name for name, pgid in self._groups.items()}
        by_name = dict.fromkeys(self._groups, 0.0)
        others: list[tuple[str, float]] = []
        for pid, now in after.items():
            if pid in exclude or pid == os.getpid():
                continue
            before = self._before.get(pid)
            used = now.cpu_s - (before.cpu_s if before and before.command == now.command else 0.0)
            name = by_group.get(now.pgid)
            if name is not None:
                by_name[name] += used
            elif used > 0:
                others.append((f"{now.command} ({pid})", used))
        by_name["bench"] = bench
        others.sort(key=lambda item: item[1], reverse=True)
        return CpuUse(load, by_name, others[: self.TOP_OTHERS])
