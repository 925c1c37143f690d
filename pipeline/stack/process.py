"""Start, find and stop the long-running processes of the local stack.

Each service gets a pid file and a log file under the state dir. A pid only counts as ours
while /proc shows it alive with the marker we gave it on its command line, so a stale pid
file (after a reboot, say) never makes us signal a stranger.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ServiceError


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    run_dir: Path
    marker: str

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our running process, or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive_with_marker(pid, self.marker) else None

    def started_pid(self) -> int | None:
        """The pid `start` recorded, while that process lives (no marker check: the JVM launcher
        may re-exec itself, so its command line can briefly differ just after start)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _running(pid) else None

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,  # own process group: `down` stops children too
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, wait, then SIGKILL what is left. True if something was stopped."""
        return bool(stop_together([self], timeout_s))

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def stop_together(procs: Sequence[ManagedProcess], timeout_s: float = 30.0) -> list[ManagedProcess]:
    """SIGTERM every process group at once, wait for all, then SIGKILL what is left; return those stopped.

    Members of a cluster stop together: one by one, the last broker would wait for a controller quorum
    that has already gone."""
    running = [(proc, pid) for proc in procs if (pid := proc.pid()) is not None]
    for proc in procs:
        if proc.pid() is None:
            proc.pid_file.unlink(missing_ok=True)
    for _proc, pid in running:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_group_alive(pid) for _proc, pid in running):
        time.sleep(0.2)
    for _proc, pid in running:
        if _group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
    while any(_group_alive(pid) for _proc, pid in running) and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    for proc, _pid in running:
        proc.pid_file.unlink(missing_ok=True)
    return [proc for proc, _pid in running]


def _alive_with_marker(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie is not running
        return False
    return marker.encode() in cmdline


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _group_alive(pgid: int) -> bool:
    return bool(_group_members(pgid))


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def wait_until(
    check: Callable[[], bool], *, timeout_s: float, proc: ManagedProcess, service: str, interval_s: float = 0.5
) -> None:
    """Poll `check` until it is true; fail with the service's log if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if proc.started_pid() is None:
            raise ServiceError(f"{service} exited during start-up; see {proc.log_file}\n{proc.log_tail()}")
        time.sleep(interval_s)
    raise ServiceError(f"{service} did not answer within {timeout_s:.0f}s; see {proc.log_file}\n{proc.log_tail()}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (0 if gone)."""
    total = 0
    for member in _group_members(os.getpgid(pid)) if _alive(pid) else []:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
